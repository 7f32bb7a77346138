import assert from 'node:assert/strict';
import { appendFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GOLDEN } from '../../fixtures/golden.js';
import { loadState } from '../../src/audit/state.js';
import { apply, prepare, type FoldEntry } from '../../src/state/fold.js';
import { verifyTranscripts } from '../../src/audit/verify.js';
import { canonical } from '../../src/base/canonical.js';
import { ceremonyFiles, lineDigest } from '../../src/evidence/chain.js';
import { entryStatement, signStatement } from '../../src/evidence/entry.js';
import { loadScript } from '../../src/evidence/script.js';
import { Workspace } from '../../src/fs/workspace.js';
import { loadNodeIdentity } from '../../src/node/identity.js';
import { tempDir } from '../support/cli.js';

// Attacks on the epoch-changing operations (refresh, reshare, repair) by someone short of the
// quorum (found by an attacker's review): each is a ceremony the attacker writes into the
// workspace with the one key they hold. The fold must refuse it for every command and audit
// verify must report it, because an effect counts only with what backs it in its own ceremony
// (src/state/ceremony-facts.ts).

process.env.XDG_STATE_HOME = tempDir('keyrite-renewal-attacks-state-');

/** A copy of the golden workspace and a writer of ceremonies signed by node `node` alone, whose identity the attacker holds. */
async function nodeForger(node: string) {
  const root = join(tempDir(), 'ws');
  cpSync(GOLDEN, root, { recursive: true });
  const ws = new Workspace(root);
  const state = await loadState(ws);
  const id = await loadNodeIdentity(join(root, 'nodes', node), node);
  const write = (scriptName: string, steps: [string, object][]) => {
    const script = loadScript(scriptName);
    const ceremony = `${String(ceremonyFiles(ws.transcriptsDir).length + 1).padStart(4, '0')}-${scriptName}`;
    let prev = state.head;
    steps.forEach(([step, extra], seq) => {
      const line = canonical(signStatement(entryStatement({ ceremony, seq, prev, roster: state.rosterDigest, script: script.digest }, node, { step, ...extra }), [id]));
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

test('one node alone cannot make the fold forget its party\'s exported shard and receipt with a repair.share of its own', async () => {
  const { ws, state, write } = await nodeForger('node-2');
  const r = [...state.keys.values()][0]!;
  const role = `keyrite:shard/bob/${r.keyId}/e${r.epoch}`;
  assert.ok(state.exports.has(role) && state.receipt(r.keyId, r.epoch, 'node-2'), 'the fixture records bob\'s shard and receipt');
  // Everything in it is public: the key record's group key and node-2's verifying share.
  const ceremony = write('repair', [['repair.share', {
    params: { keyId: r.keyId, epoch: r.epoch, party: 'node-2', sessionId: '0'.repeat(64) },
    result: { groupPublicKey: r.publicKey, verifyingShare: r.publicPackage.verifyingShares['node-2'] },
  }]]);
  await refusedEverywhere(ws, ceremony, /repair.share.*approv/);
});

test('in a ceremony that consumed the approvals of one repair, only that party\'s node signs a repair.share, and once', async () => {
  const { state } = await nodeForger('node-2');
  const r = [...state.keys.values()][0]!;
  // As after repair.intent: the quorum of a repair of bob's share (node-2), consumed in this ceremony.
  state.facts = { ceremony: '0099-repair', shares: new Map(), quorums: new Map([['repair', { keyId: r.keyId, custodian: 'bob' }]]) };
  const repaired = (node: string): FoldEntry => ({
    ceremony: '0099-repair', step: 'repair.share', actor: node, subjects: [], time: new Date().toISOString(),
    params: { keyId: r.keyId, epoch: r.epoch, party: node, sessionId: '0'.repeat(64) },
    result: { groupPublicKey: r.publicKey, verifyingShare: r.publicPackage.verifyingShares[node] },
  });
  assert.throws(() => prepare(state, repaired('node-3')), (e: Error & { code?: string }) => e.code === 'BAD_CHANGE' && /approved in this ceremony is of bob's share/.test(e.message));
  apply(state, repaired('node-2'));
  assert.throws(() => prepare(state, repaired('node-2')), (e: Error & { code?: string }) => e.code === 'BAD_CHANGE' && /second share/.test(e.message));
});
