import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { independentVerify } from '../../src/ceremony/independent-verify.js';
import { keyrite, tempDir } from '../support/cli.js';

// The README's first command: the whole lifecycle, then the auditor's check of what it left.

/** `keyrite audit verify --json` on `ws`: its verdict and failures, with the exit status checked against it. */
async function auditVerify(ws: string): Promise<{ ok: boolean; failures: { reason: string }[] }> {
  const r = await keyrite(['audit', 'verify', '--workspace', ws, '--json']);
  const out = JSON.parse(r.stdout);
  assert.equal(r.code, out.ok ? 0 : 1, r.stdout + r.stderr);
  return { ok: out.ok, failures: out.failures ?? [] };
}

test('demo: every engine signs just in time, ordinary verifiers accept, and the evidence verifies', async () => {
  const ws = join(tempDir('keyrite-demo-'), 'ws');
  const started = Date.now();
  const r = await keyrite(['demo', '--workspace', ws, '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(Date.now() - started < 60_000, 'the demo takes under a minute');
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.signatures.map((s: any) => s.engine), ['ed25519', 'bip340', 'ecdsa']);
  for (const s of report.signatures) {
    assert.match(s.keyId, /^k[0-9a-f]{16}$/);
    const preimage = s.preimage === undefined ? undefined : Buffer.from(s.preimage, 'hex');
    assert.ok(independentVerify(s.engine, s.publicKey, Buffer.from(s.message, 'hex'), s.signature, preimage), `${s.engine} signature`);
  }
  // The ecdsa signature as anyone checks it from the report alone: OpenSSL over the preimage.
  const ecdsa = report.signatures.find((s: any) => s.engine === 'ecdsa');
  assert.ok(!independentVerify('ecdsa', ecdsa.publicKey, Buffer.from(ecdsa.message, 'hex'), ecdsa.signature, Buffer.from('another text')));
  for (const n of readdirSync(join(ws, 'nodes'))) assert.deepEqual(readdirSync(join(ws, 'nodes', n, 'shares')), [], `${n} holds nothing`);

  // The emergency recovery opened by its recipient names the bip340 key; the ecdsa key is retired.
  const bip340 = report.signatures.find((s: any) => s.engine === 'bip340');
  assert.deepEqual([report.emergency.keyId, report.emergency.publicKey], [bip340.keyId, bip340.publicKey]);
  assert.match(report.emergency.descriptor, /^rawtr\([0-9a-f]{64}\)#[a-z0-9]{8}$/);
  assert.equal(report.retired, ecdsa.keyId);
  const statuses = Object.fromEntries(readdirSync(join(ws, 'keys')).map((f) => { const k = JSON.parse(readFileSync(join(ws, 'keys', f), 'utf8')); return [k.keyId, k.status]; }));
  assert.deepEqual([statuses[bip340.keyId], statuses[ecdsa.keyId]], ['compromised', 'retired']);

  // Each epoch change of the ed25519 key leaves its public key and address where they were.
  const ed = report.signatures.find((x: any) => x.engine === 'ed25519');
  assert.deepEqual(report.epochs.map((e: any) => [e.operation, e.before.epoch, e.after.epoch]), [['refresh', 1, 2], ['reshare', 2, 3]]);
  for (const e of report.epochs) {
    assert.equal(e.keyId, ed.keyId);
    assert.deepEqual([e.before.publicKey, e.before.address], [ed.publicKey, ed.address]);
    assert.deepEqual([e.after.publicKey, e.after.address], [ed.publicKey, ed.address]);
  }
  const edRecord = JSON.parse(readFileSync(join(ws, 'keys', `${ed.keyId}.json`), 'utf8'));
  assert.deepEqual([edRecord.epoch, edRecord.publicKey, edRecord.parties.map((p: any) => p.custodian)], [3, ed.publicKey, ['alice', 'bob']]);

  const audit = await auditVerify(ws);
  assert.ok(audit.ok, JSON.stringify(audit.failures));

  // Remove one node-empty attestation after a signature: the auditor names the node.
  const file = readdirSync(join(ws, 'transcripts')).find((f) => f.endsWith('-sign.jsonl'))!;
  const path = join(ws, 'transcripts', file);
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const at = lines.findIndex((l) => JSON.parse(Buffer.from(JSON.parse(l).payload, 'base64').toString('utf8')).predicate.step === 'node.attest');
  lines.splice(at, 1);
  writeFileSync(path, lines.join('\n') + '\n');
  const cut = await auditVerify(ws);
  assert.equal(cut.ok, false);
  assert.ok(cut.failures.some((f) => /node-1 signed with key .* never attested/.test(f.reason)), JSON.stringify(cut.failures));
});
