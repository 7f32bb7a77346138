import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportKey } from '../../src/ceremony/export.js';
import type { Operator } from '../../src/ceremony/kernel/operator.js';
import { Workspace } from '../../src/fs/workspace.js';
import type { NodeClient } from '../../src/node/client.js';
import { SigningNode } from '../../src/node/node.js';
import { newIdentity } from '../../src/custody/identity.js';
import { signEntry } from '../../src/evidence/entry.js';
import type { NodeConnector } from '../../src/ceremony/kernel/nodes.js';
import { CUSTODIANS, keygen, lifecycleWorkspace, nodeShareFiles, readShard, shardFile, steps } from '../support/lifecycle.js';
import type { TestWorkspace } from '../support/workspace.js';

// docs/ARCHITECTURE.md §8: a failure at any point of an export leaves, for every party, the node's encrypted
// share or a complete shard whose digest is recorded — never neither. Failures are injected
// into one node's calls through the in-process connector.

function operatorFor(tw: TestWorkspace): Operator {
  return {
    passphrase: async (name) => tw.passphrases[name]!,
    passphraseIfPresent: async (name) => tw.passphrases[name]!,
    confirm: async () => 'yes',
    progress: (_label, work) => work(),
  };
}

/** In-process nodes, with one call of one node replaced by `replacement`. */
function altered<K extends keyof NodeClient>(ws: Workspace, node: string, call: K, replacement: (real: SigningNode) => NodeClient[K]): NodeConnector {
  return async (id, _caller, state) => {
    const real = await SigningNode.open(ws, id, { state: () => state });
    if (id !== node) return real;
    return new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === call) return replacement(target);
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  };
}

const failing = (ws: Workspace, node: string, call: 'exportShard' | 'deleteShare') =>
  altered(ws, node, call, () => async () => { throw new Error(`${node} lost power`); });

function exportCeremonies(tw: TestWorkspace): string[] {
  return readdirSync(join(tw.root, 'transcripts')).filter((f) => f.endsWith('-export.jsonl')).sort().map((f) => f.slice(0, -'.jsonl'.length));
}

/** Custodians whose shard an export.shard entry records. */
function recordedShards(tw: TestWorkspace): Set<string> {
  return new Set(exportCeremonies(tw).flatMap((c) => steps(tw, c).filter((s) => s.step === 'export.shard').map((s) => s.params.custodian as string)));
}

/** Each party: the node still holds its share, or the custodian's shard is complete and recorded. */
async function assertNeverNeither(tw: TestWorkspace, keyId: string): Promise<void> {
  const held = nodeShareFiles(tw).map((f) => f.split('/').at(-3));
  const recorded = recordedShards(tw);
  for (const [i, c] of CUSTODIANS.entries()) {
    const node = `node-${i + 1}`;
    if (held.includes(node)) continue;
    const path = shardFile(tw, c, keyId);
    assert.ok(existsSync(path) && recorded.has(c), `${node} holds nothing and ${c} has no recorded shard`);
    assert.equal((await readShard(tw, c, path)).share.party, node);
  }
}

test('a node failing while exporting: every node keeps its share, and nothing is deleted', async () => {
  const tw = await lifecycleWorkspace();
  const { keyId } = await keygen(tw, 'ed25519', []);
  const ws = new Workspace(tw.root);
  await assert.rejects(exportKey({ ws, keyId, deleteAfter: true, operator: operatorFor(tw), connect: failing(ws, 'node-3', 'exportShard') }), /node-3 lost power/);
  assert.equal(nodeShareFiles(tw).length, 3);
  await assertNeverNeither(tw, keyId);
  const last = exportCeremonies(tw).at(-1)!;
  assert.equal(steps(tw, last).at(-1)!.step, 'ceremony.abort');
});

test('a node failing while deleting: the shards are all recorded first, so no party is lost', async () => {
  const tw = await lifecycleWorkspace();
  const { keyId } = await keygen(tw, 'bip340', []);
  const ws = new Workspace(tw.root);
  await assert.rejects(exportKey({ ws, keyId, deleteAfter: true, operator: operatorFor(tw), connect: failing(ws, 'node-2', 'deleteShare') }), /node-2 lost power/);
  assert.equal(nodeShareFiles(tw).length, 2, 'node-1 deleted, node-2 failed, node-3 never reached');
  await assertNeverNeither(tw, keyId);
});

test('an attestation not signed by the node asked, or naming another node, is refused and not recorded', async () => {
  const tw = await lifecycleWorkspace();
  const { keyId } = await keygen(tw, 'ed25519', []);
  const ws = new Workspace(tw.root);
  const other = await newIdentity('node-3', 'node');
  // node-3 answers with a claim signed by a key that is not node-3's in the roster.
  const forged = altered(ws, 'node-3', 'attest', () => async (draft) => ({ holds: [], entry: signEntry(draft, other, { step: 'node.attest', result: { holds: [] } }) }));
  await assert.rejects(exportKey({ ws, keyId, deleteAfter: true, operator: operatorFor(tw), connect: forged }), (e: any) => e.code === 'BAD_SIGNATURE' && e.message.includes('node-3'));
  // node-2 answers with node-1's (genuinely signed) claim.
  const tw2 = await lifecycleWorkspace();
  const k2 = await keygen(tw2, 'ed25519', []);
  const ws2 = new Workspace(tw2.root);
  const borrowed = altered(ws2, 'node-2', 'attest', () => async (draft) => (await SigningNode.open(ws2, 'node-1')).attest(draft));
  await assert.rejects(exportKey({ ws: ws2, keyId: k2.keyId, deleteAfter: true, operator: operatorFor(tw2), connect: borrowed }), (e: any) => e.code === 'WRONG_NODE' && e.message.includes('node-2'));
  for (const t of [tw, tw2]) {
    const last = steps(t, exportCeremonies(t).at(-1)!);
    assert.equal(last.at(-1)!.step, 'ceremony.abort');
    assert.ok(!last.some((x) => x.step === 'node.attest' && x.actor === (t === tw ? 'node-3' : 'node-2')), 'the refused claim is not in the transcript');
  }
});
