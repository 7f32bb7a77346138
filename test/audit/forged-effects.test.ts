import assert from 'node:assert/strict';
import { appendFileSync, cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GOLDEN, PEOPLE } from '../../fixtures/golden.js';
import { loadState } from '../../src/audit/state.js';
import { verifyTranscripts } from '../../src/audit/verify.js';
import { canonical, sha256Hex } from '../../src/base/canonical.js';
import { publicOf, unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { addressesOf, publicPackageOf } from '../../src/engine/index.js';
import { ceremonyFiles, lineDigest } from '../../src/evidence/chain.js';
import { entryStatement, signStatement } from '../../src/evidence/entry.js';
import { loadScript } from '../../src/evidence/script.js';
import { Workspace } from '../../src/fs/workspace.js';
import { keyRecordBytes } from '../../src/state/cache.js';
import { loadNodeIdentity } from '../../src/node/identity.js';
import { newRequest, requestDigest, signApproval } from '../../src/state/approval-request.js';
import type { KeyRecord } from '../../src/state/key-record.js';
import { member } from '../../src/state/roster.js';
import { identities, runDkg } from '../support/engine.js';
import { tempDir } from '../support/cli.js';

// Effects on keys that one member alone signs (found by an attacker's review): the generator
// creating a key from a key generation it ran alone, one custodian marking a key compromised,
// the generator retiring one. Each is a ceremony the member writes and aborts; each must be
// refused by every command and reported by audit verify, because the fold takes such an
// effect only with what backs it in its own ceremony (src/state/ceremony-facts.ts). And an
// epoch change (refresh.result, reshare.result) crafted with the real keys of everyone it names:
// whole, it folds; without the consumed approvals, or without every party's node's signed
// share, it is refused.

process.env.XDG_STATE_HOME = tempDir('keyrite-forged-state-');

async function forger(name: string) {
  const root = join(tempDir(), 'ws');
  cpSync(GOLDEN, root, { recursive: true });
  const ws = new Workspace(root);
  const state = await loadState(ws);
  const id = await unlockIdentity(readFileSync(join(root, `holdings/${name}/${name}.identity.age`)), readFileSync(join(PEOPLE, `${name}.pass`), 'utf8').trim(), name, member(state.requireRoster(), name));
  /** Writes one ceremony of `steps`, every line signed by `name` alone, or by the identity a step names. */
  const write = (scriptName: string, steps: [string, object, Identity?][]) => {
    const script = loadScript(scriptName);
    const ceremony = `${String(ceremonyFiles(ws.transcriptsDir).length + 1).padStart(4, '0')}-${scriptName}`;
    let prev = state.head;
    steps.forEach(([step, extra, by = id], seq) => {
      const line = canonical(signStatement(entryStatement({ ceremony, seq, prev, roster: state.rosterDigest, script: script.digest }, by.name, { step, ...extra }), [by]));
      appendFileSync(join(ws.transcriptsDir, `${ceremony}.jsonl`), line + '\n');
      prev = lineDigest(line);
    });
    return ceremony;
  };
  /** Another member's identity, or a node's, from the fixture's own files. */
  const as = async (who: string): Promise<Identity> =>
    who.startsWith('node-')
      ? loadNodeIdentity(join(root, 'nodes', who), who)
      : unlockIdentity(readFileSync(join(root, `holdings/${who}/${who}.identity.age`)), readFileSync(join(PEOPLE, `${who}.pass`), 'utf8').trim(), who, member(state.requireRoster(), who));
  return { ws, state, write, as };
}

async function refusedEverywhere(ws: Workspace, ceremony: string, reason: RegExp): Promise<void> {
  await assert.rejects(loadState(ws), (e: Error & { code?: string }) => e.code === 'TRANSCRIPT_DAMAGED' && e.message.includes(ceremony) && reason.test(e.message));
  const r = await verifyTranscripts({ files: ceremonyFiles(ws.transcriptsDir), root: ws.root, artifacts: false });
  assert.ok(r.failures.some((f) => f.kind === 'transition' && f.file.includes(ceremony) && reason.test(f.reason)), JSON.stringify(r.failures));
}

const abort = ['ceremony.abort', { result: { code: 'INTERNAL', message: 'interrupted' } }] as [string, object];

test('the generator alone cannot create a key from a key generation it ran by itself', async () => {
  const { ws, state, write } = await forger('gen');
  const nodes = state.requireRoster().nodes.map((n) => n.name).slice(0, 3);
  const shares = await runDkg('ed25519', nodes, 2, await identities(nodes));
  const pkg = publicPackageOf(shares[nodes[0]!]!);
  const parties = nodes.map((n, i) => {
    const c = member(state.requireRoster(), ['alice', 'bob', 'carol'][i]!, 'custodian');
    return { party: n, node: n, custodian: c.name, recipient: c.recipient, fingerprint: c.fingerprint };
  });
  const record = { v: 1, keyId: pkg.keyId, label: 'treasury', engine: 'ed25519', epoch: 1, publicKey: pkg.groupPublicKey, threshold: 2, parties, publicPackage: pkg, addresses: addressesOf('ed25519', pkg.groupPublicKey), status: 'active' } as const;
  const ceremony = write('keygen', [
    ['ceremony.start', { params: { engine: 'ed25519' } }],
    ['keygen.result', { result: { keyId: record.keyId, record }, subjects: [{ name: `keys/${record.keyId}.json`, sha256: sha256Hex(keyRecordBytes(record as never)) }] }],
    abort,
  ]);
  await refusedEverywhere(ws, ceremony, /signed no share for party/);
});

test('one custodian cannot mark a key compromised, and the generator cannot retire one, without the quorum', async () => {
  for (const [who, script, step, params] of [
    ['bob', 'recover-custodian', 'recover.result', { kind: 'private-key', target: 'alice' }],
    ['gen', 'key-retire', 'key.retire', {}],
  ] as const) {
    const { ws, state, write } = await forger(who);
    const keyId = [...state.keys.keys()][0]!;
    const ceremony = write(script, [['ceremony.start', { params: { keyId } }], [step, { params: { ...params, keyId } }], abort]);
    await refusedEverywhere(ws, ceremony, /approv/);
  }
});

/**
 * A refresh or reshare of the fixture's key to epoch 2, on the same shares, written with the real
 * keys of everyone each line names: the generator, bob's and carol's approvals of the exact
 * request, the intent consuming them, each node's signed share, the epoch change. `drop` removes
 * the lines of those steps. Returns the ceremony and the line of its result.
 */
async function epochChange(op: 'refresh' | 'reshare', drop: { approvals?: boolean; shares?: string[] }) {
  const f = await forger('gen');
  const r = f.state.key([...f.state.keys.keys()][0]!);
  const custodians = r.parties.map((p) => p.custodian);
  const parameters = op === 'refresh' ? { epoch: r.epoch } : { epoch: r.epoch, custodians, threshold: r.threshold };
  const request = newRequest({ operation: op, target: r.keyId, parameters, head: f.state.head! }, new Date(), 3600_000);
  const approvals: [string, object, Identity][] = [];
  for (const who of ['bob', 'carol']) {
    const a = await f.as(who);
    approvals.push(['approval', { params: { approval: signApproval(request, publicOf(a), a.signing, new Date()) } }, a]);
  }
  const sessionId = 'f'.repeat(64);
  // The new record pins each custodian as the roster in force holds them (alice was recovered since keygen, with a new signing key).
  const parties = r.parties.map((p) => ({ ...p, fingerprint: member(f.state.requireRoster(), p.custodian, 'custodian').fingerprint }));
  const next: KeyRecord = { ...r, parties, epoch: r.epoch + 1, publicPackage: { ...r.publicPackage, epoch: r.epoch + 1 } };
  const shares: [string, object, Identity][] = [];
  for (const p of r.parties.filter((x) => !drop.shares?.includes(x.node))) {
    shares.push([`${op}.share`, { params: { keyId: r.keyId, epoch: next.epoch, party: p.party, sessionId }, result: { groupPublicKey: r.publicKey, verifyingShare: r.publicPackage.verifyingShares[p.party] } }, await f.as(p.node)]);
  }
  const extra = op === 'refresh' ? {} : { custodians, threshold: r.threshold, dealers: custodians.slice(0, r.threshold) };
  const lines: [string, object, Identity?][] = [
    ['ceremony.start', { params: { keyId: r.keyId, epoch: r.epoch } }],
    ...(drop.approvals ? [] : approvals),
    [`${op}.intent`, { params: { keyId: r.keyId, target: r.keyId, epoch: r.epoch, ...extra, request: requestDigest(request), sessionId } }],
    ...shares,
    [`${op}.result`, {
      params: { keyId: r.keyId, epochBefore: r.epoch, epoch: next.epoch, ...extra, sessionId },
      result: { keyId: r.keyId, publicKey: r.publicKey, epoch: next.epoch, addresses: r.addresses, record: next },
      subjects: [{ name: `keys/${r.keyId}.json`, sha256: sha256Hex(keyRecordBytes(next)) }],
    }],
    abort,
  ];
  const ceremony = f.write(op, lines);
  return { ws: f.ws, ceremony, line: lines.length - 2 };
}

/** The failures of `ceremony`'s transitions, by line. */
async function transitions(ws: Workspace, ceremony: string) {
  const r = await verifyTranscripts({ files: ceremonyFiles(ws.transcriptsDir), root: ws.root, artifacts: false });
  return r.failures.filter((f) => f.kind === 'transition' && f.file.includes(ceremony));
}

for (const op of ['refresh', 'reshare'] as const) {
  test(`${op}.result crafted with every approval and every node's share folds; without the approvals, or any node's share, it is refused`, async () => {
    const whole = await epochChange(op, {});
    assert.deepEqual(await transitions(whole.ws, whole.ceremony), [], 'the crafted epoch change folds whole, so each removal below is the only defect');
    assert.equal((await loadState(whole.ws)).keys.values().next().value!.epoch, 2);
    const rows: [{ approvals?: boolean; shares?: string[] }, RegExp][] = [
      [{ approvals: true }, new RegExp(`${op}.result in .* is not preceded, in its own ceremony, by the consumed approvals of ${op}`)],
      [{ shares: ['node-1', 'node-2', 'node-3'] }, /node-1 signed no share for party node-1/],
      [{ shares: ['node-3'] }, /node-3 signed no share for party node-3/],
    ];
    for (const [drop, reason] of rows) {
      const { ws, ceremony, line } = await epochChange(op, drop);
      await assert.rejects(loadState(ws), (e: Error & { code?: string }) => e.code === 'TRANSCRIPT_DAMAGED' && e.message.includes(ceremony));
      const failures = await transitions(ws, ceremony);
      assert.ok(failures.some((f) => f.line === line + 1 && reason.test(f.reason)), `${JSON.stringify(drop)}: ${JSON.stringify(failures)}`);
    }
  });
}
