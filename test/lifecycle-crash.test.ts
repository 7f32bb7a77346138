import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportKey } from '../src/ceremony/export.js';
import type { Operator } from '../src/ceremony/operator.js';
import { Workspace } from '../src/fs/workspace.js';
import type { NodeClient } from '../src/node/client.js';
import { SigningNode } from '../src/node/node.js';
import { CUSTODIANS, keygen, lifecycleWorkspace, nodeShareFiles, readShard, shardFile, steps } from './helpers/lifecycle.js';
import type { TestWorkspace } from './helpers/workspace.js';

// DESIGN §8: a failure at any point of an export leaves, for every party, the node's encrypted
// share or a complete shard whose digest is recorded — never neither. Failures are injected
// into one node's calls through the in-process connector.

function operatorFor(tw: TestWorkspace): Operator {
  return {
    passphrase: async (name) => tw.passphrases[name]!,
    confirm: async () => 'yes',
    progress: (_label, work) => work(),
  };
}

function failing(ws: Workspace, node: string, call: 'exportShard' | 'deleteShare'): (id: string) => Promise<NodeClient> {
  return async (id) => {
    const real = await SigningNode.open(ws, id);
    if (id !== node) return real;
    return new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === call) return async () => { throw new Error(`${id} lost power`); };
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  };
}

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
