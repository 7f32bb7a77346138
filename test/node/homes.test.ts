import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { independentVerify } from '../../src/ceremony/independent-verify.js';
import { allFiles, tempDir } from '../support/cli.js';
import { nodesArg, serve, type Served } from '../support/serve.js';
import { CUSTODIANS, everyone, lifecycleWorkspace, steps } from '../support/lifecycle.js';
import { ok, refused, type TestWorkspace } from '../support/workspace.js';

// Nodes kept apart from the workspace (docs/ARCHITECTURE.md §2, §6): each node's home — its identity, shares
// and session log — is a directory of its own outside the workspace, served by its own
// `keyrite node serve --home DIR` process. The coordinator is never told where the homes are and
// its workspace holds only the nodes' public identities; every node entry in the transcript is
// signed by the node itself, and the evidence verifies. A node then refuses a workspace whose
// history does not extend the one it accepted.

describe('nodes with homes outside the workspace', () => {
  let tw: TestWorkspace;
  const homes: Record<string, string> = {};
  const servers: Served[] = [];
  let nodes: string;

  before(async () => {
    tw = await lifecycleWorkspace();
    // Each node's directory leaves the workspace for the node's own machine.
    for (const id of ['node-1', 'node-2', 'node-3']) {
      homes[id] = join(tempDir('keyrite-node-home-'), id);
      renameSync(join(tw.root, 'nodes', id), homes[id]);
    }
    for (const id of Object.keys(homes)) servers.push(await serve(tw.root, id, ['--home', homes[id]!]));
    nodes = nodesArg(servers);
  });
  after(() => {
    for (const s of servers) s.child.kill('SIGTERM');
  });

  test('the workspace holds no node secret, only the nodes\' public identities', () => {
    assert.deepEqual(readdirSync(join(tw.root, 'nodes')), []);
    const roster = JSON.parse(allFiles(tw.root).find((f) => f.path === join(tw.root, 'roster.json'))!.bytes.toString());
    assert.deepEqual(roster.nodes.map((n: { name: string }) => n.name), ['node-1', 'node-2', 'node-3']);
    for (const id of Object.keys(homes)) assert.ok(existsSync(join(homes[id]!, 'identity.json')));
  });

  test('keygen with export and deletion, then a signature, run on the homed nodes, and the evidence verifies', async () => {
    const k = ok(await tw.kr(['keygen', '--json', '--engine', 'ed25519', '--custodians', CUSTODIANS.join(','), '--label', 'homed', '--export', '--delete-after-export', '--nodes', nodes, ...everyone(tw)]));
    assert.equal(k.nodesEmpty, true);
    for (const id of Object.keys(homes)) assert.deepEqual(readdirSync(join(homes[id]!, 'shares')), [], `${id} holds nothing after export`);
    const node = (s: { actor: string }) => s.actor.startsWith('node-');
    const keygenSteps = steps(tw, k.ceremony).filter(node).map((s) => `${s.step}:${s.actor}`);
    assert.deepEqual(keygenSteps, [
      'keygen.share:node-1', 'keygen.share:node-2', 'keygen.share:node-3',
      'export.shard:node-1', 'export.shard:node-2', 'export.shard:node-3',
      'node.delete:node-1', 'node.delete:node-2', 'node.delete:node-3',
      'node.attest:node-1', 'node.attest:node-2', 'node.attest:node-3',
    ]);
    const message = Buffer.from('pay the homed nodes\n');
    const r = ok(await tw.kr(['sign', '--json', '--key', k.keyId, '--signer', 'alice', '--signer', 'carol', '--message-hex', message.toString('hex'), '--nodes', nodes, ...everyone(tw)]));
    assert.ok(independentVerify('ed25519', r.publicKey, message, r.signature));
    assert.equal(r.message, message.toString('hex'));
    const v = ok(await tw.kr(['audit', 'verify', '--json']));
    assert.ok(v.entries > 0);
  });
});

describe('a node refuses a history that does not extend the one it accepted', () => {
  test('the workspace rewound to before the key, or replaced by another history around the same node keys', async () => {
    const tw = await lifecycleWorkspace();
    const before = tempDir('keyrite-rewound-');
    cpSync(join(tw.root, 'transcripts'), before, { recursive: true });
    const servers = [await serve(tw.root, 'node-1'), await serve(tw.root, 'node-2'), await serve(tw.root, 'node-3')];
    try {
      const nodes = nodesArg(servers);
      const k = ok(await tw.kr(['keygen', '--json', '--engine', 'bip340', '--custodians', CUSTODIANS.join(','), '--label', 'anchored', '--export', '--nodes', nodes, ...everyone(tw)]));
      // Rewind the workspace's transcripts to before the keygen: the nodes have signed lines after that point.
      rmSync(join(tw.root, 'transcripts'), { recursive: true });
      cpSync(before, join(tw.root, 'transcripts'), { recursive: true });
      assert.equal(k.nodesEmpty, false, 'the nodes keep their shares: there is something to protect');
      const holds = await tw.kr(['keygen', '--json', '--engine', 'bip340', '--custodians', CUSTODIANS.join(','), '--label', 'again', '--nodes', nodes, ...everyone(tw)]);
      refused(holds, 1, 'HISTORY_NOT_EXTENDED', ['node-1', 'rewound or replaced']);
    } finally {
      for (const s of servers) s.child.kill('SIGTERM');
    }
  });
});
