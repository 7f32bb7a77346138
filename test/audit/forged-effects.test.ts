import assert from 'node:assert/strict';
import { appendFileSync, cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GOLDEN, PEOPLE } from '../../fixtures/golden.js';
import { loadState } from '../../src/audit/state.js';
import { verifyTranscripts } from '../../src/audit/verify.js';
import { canonical, sha256Hex } from '../../src/base/canonical.js';
import { unlockIdentity } from '../../src/custody/identity.js';
import { addressesOf, publicPackageOf } from '../../src/engine/index.js';
import { ceremonyFiles, lineDigest } from '../../src/evidence/chain.js';
import { entryStatement, signStatement } from '../../src/evidence/entry.js';
import { loadScript } from '../../src/evidence/script.js';
import { Workspace } from '../../src/fs/workspace.js';
import { keyRecordBytes } from '../../src/state/cache.js';
import { member } from '../../src/state/roster.js';
import { identities, runDkg } from '../support/engine.js';
import { tempDir } from '../support/cli.js';

// Effects on keys that one member alone signs (found by an attacker's review): the generator
// creating a key from a key generation it ran alone, one custodian marking a key compromised,
// the generator retiring one. Each is a ceremony the member writes and aborts; each must be
// refused by every command and reported by audit verify, because the fold takes such an
// effect only with what backs it in its own ceremony (src/state/ceremony-facts.ts).

process.env.XDG_STATE_HOME = tempDir('keyrite-forged-state-');

async function forger(name: string) {
  const root = join(tempDir(), 'ws');
  cpSync(GOLDEN, root, { recursive: true });
  const ws = new Workspace(root);
  const state = await loadState(ws);
  const id = await unlockIdentity(readFileSync(join(root, `holdings/${name}/${name}.identity.age`)), readFileSync(join(PEOPLE, `${name}.pass`), 'utf8').trim(), name, member(state.requireRoster(), name));
  /** Writes one ceremony of `steps`, every line signed by `name` alone. */
  const write = (scriptName: string, steps: [string, object][]) => {
    const script = loadScript(scriptName);
    const ceremony = `${String(ceremonyFiles(ws.transcriptsDir).length + 1).padStart(4, '0')}-${scriptName}`;
    let prev = state.head;
    steps.forEach(([step, extra], seq) => {
      const line = canonical(signStatement(entryStatement({ ceremony, seq, prev, roster: state.rosterDigest, script: script.digest }, name, { step, ...extra }), [id]));
      appendFileSync(join(ws.transcriptsDir, `${ceremony}.jsonl`), line + '\n');
      prev = lineDigest(line);
    });
    return ceremony;
  };
  return { ws, state, write };
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
