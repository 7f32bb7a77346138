import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { sha256Hex } from '../../src/base/canonical.js';
import type { Identity } from '../../src/custody/identity.js';
import { sessionIdOf, type SessionParams, type Share } from '../../src/engine/index.js';
import { Workspace } from '../../src/fs/workspace.js';
import { drive } from '../../src/node/drive.js';
import { benchFor } from '../../src/audit/blame-rules.js';
import type { CustodyState } from '../../src/state/fold.js';
import { SigningNode } from '../../src/node/node.js';
import { sealForNode, signRequest, type SignRequest } from '../../src/node/request.js';
import type { ShardPayload } from '../../src/custody/shard.js';
import { identities, runRefresh } from '../support/engine.js';
import { member } from '../../src/state/roster.js';
import { nodeDraft, signingWorkspace, signStart } from '../support/node.js';
import { independentVerify } from '../../src/ceremony/independent-verify.js';
import type { TestWorkspace } from '../support/workspace.js';

// A node's own checks, driven in-process: it signs only for a request signed by the custodian of
// its party that matches the session, the share and the message; one signing run per key at a
// time; and it keeps nothing from a refused or finished run.

describe('a signing node', () => {
  let tw: TestWorkspace;
  let ws: Workspace;
  let keyId: string;
  let state: CustodyState;
  let shards: Record<string, ShardPayload>;
  let people: Record<string, Identity>;
  const message = Buffer.from('the message the custodians approved');

  before(async () => {
    ({ tw, ws, keyId, state, shards, people } = await signingWorkspace('ed25519'));
  });

  function session(ceremonyId: string): SessionParams {
    const r = state.key(keyId);
    return { engine: r.engine, keyId, epoch: r.epoch, participants: ['node-1', 'node-2'], t: 2, n: 3, ceremonyId, rosterDigest: state.rosterDigest };
  }
  function request(s: SessionParams, over: Partial<SignRequest> = {}): SignRequest {
    return { v: 1, keyId, epoch: 1, messageDigest: sha256Hex(message), signers: ['alice', 'bob'], sessionId: sessionIdOf(s), ...over };
  }
  async function refusedWith(node: SigningNode, start: Parameters<typeof signStart>[1], mention: string): Promise<void> {
    await assert.rejects(signStart(node, start), (e: any) => e.code === 'REQUEST_REFUSED' && e.message.includes(mention));
    assert.deepEqual((await node.attest(nodeDraft(state))).holds, []);
  }
  const sealed = (node: string, share: Share) => sealForNode(member(state.requireRoster(), node, 'node').recipient, share);
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

  test('refuses a request for another message, and keeps nothing', async () => {
    const node = await SigningNode.open(ws, 'node-1');
    const s = session('c-msg');
    const other = request(s, { messageDigest: sha256Hex('something else') });
    await refusedWith(node, { session: s, request: signRequest('alice', people.alice!.signing, other), share: await sealed('node-1', shards.alice!.share), message: hex(message) }, 'different message');
  });

  test('refuses a request signed by a custodian who is not its party\'s', async () => {
    const node = await SigningNode.open(ws, 'node-1');
    const s = session('c-who');
    await refusedWith(node, { session: s, request: signRequest('bob', people.bob!.signing, request(s)), share: await sealed('node-1', shards.alice!.share), message: hex(message) }, 'belongs to alice');
    // bob's key under alice's name: the signature does not verify.
    await refusedWith(node, { session: s, request: signRequest('alice', people.bob!.signing, request(s)), share: await sealed('node-1', shards.alice!.share), message: hex(message) }, 'does not verify');
  });

  test('refuses a request for another session or signer set', async () => {
    const node = await SigningNode.open(ws, 'node-1');
    const s = session('c-set');
    const forged = request(s, { sessionId: sessionIdOf(session('c-other')) });
    await refusedWith(node, { session: s, request: signRequest('alice', people.alice!.signing, forged), share: await sealed('node-1', shards.alice!.share), message: hex(message) }, 'different session');
    const wider = request(s, { signers: ['alice', 'bob', 'carol'] });
    await refusedWith(node, { session: s, request: signRequest('alice', people.alice!.signing, wider), share: await sealed('node-1', shards.alice!.share), message: hex(message) }, 'signer set');
  });

  test('refuses a second signing run on the same key while one is in progress', async () => {
    const node = await SigningNode.open(ws, 'node-1');
    const a = session('c-busy-1');
    await signStart(node, { session: a, request: signRequest('alice', people.alice!.signing, request(a)), share: await sealed('node-1', shards.alice!.share), message: hex(message) });
    assert.deepEqual((await node.attest(nodeDraft(state))).holds, [{ keyId, epoch: 1 }], 'a run in progress holds the key, and says so');
    const b = session('c-busy-2');
    await assert.rejects(signStart(node, { session: b, request: signRequest('alice', people.alice!.signing, request(b)), share: await sealed('node-1', shards.alice!.share), message: hex(message) }), /NODE_BUSY|already signing/);
    await node.abort(sessionIdOf(a));
    assert.deepEqual((await node.attest(nodeDraft(state))).holds, []);
  });

  test('signs for a good request, then forgets the share', async () => {
    const nodes = await Promise.all(['node-1', 'node-2'].map((id) => SigningNode.open(ws, id)));
    const s = session('c-good');
    const q = request(s);
    const by: Record<string, string> = { 'node-1': 'alice', 'node-2': 'bob' };
    const out = await drive(nodes, benchFor(state.requireRoster(), s, 'sign'), async (n) => {
      const c = by[n.id]!;
      return signStart(n, { session: s, request: signRequest(c, people[c]!.signing, q), share: await sealed(n.id, shards[c]!.share), message: hex(message) });
    });
    const sig = out['node-1'] as string;
    assert.equal(out['node-2'], sig);
    assert.ok(independentVerify('ed25519', state.key(keyId).publicKey, message, sig));
    for (const n of nodes) assert.deepEqual((await n.attest(nodeDraft(state))).holds, []);
  });

  const start = (s: SessionParams, share = shards.alice!.share) => sealed('node-1', share).then((sh) => ({ session: s, request: signRequest('alice', people.alice!.signing, request(s)), share: sh, message: hex(message) }));

  test('refuses a session it has signed in before, also once reopened (a restart)', async () => {
    const node = await SigningNode.open(ws, 'node-1');
    const s = session('c-once');
    const captured = await start(s);
    await signStart(node, captured);
    await node.abort(sessionIdOf(s));
    await assert.rejects(signStart(node, captured), (e: any) => e.code === 'SESSION_REUSED' && e.message.includes('node-1'));
    const restarted = await SigningNode.open(ws, 'node-1');
    await assert.rejects(signStart(restarted, captured), (e: any) => e.code === 'SESSION_REUSED');
    assert.deepEqual((await restarted.attest(nodeDraft(state))).holds, []);
    const log = readFileSync(join(tw.root, 'nodes', 'node-1', 'sessions'), 'utf8').split('\n');
    assert.ok(log.includes(sessionIdOf(s)));
  });

  test('a refused request does not use up its session', async () => {
    const node = await SigningNode.open(ws, 'node-1');
    const s = session('c-refused-first');
    await refusedWith(node, { ...(await start(s)), message: hex(Buffer.from('another message')) }, 'different message');
    await signStart(node, await start(s));
    await node.abort(sessionIdOf(s));
  });

  test('refuses a share whose public data differs from the key record (a refreshed share relabelled)', async () => {
    const refreshed = await runRefresh(['alice', 'bob', 'carol'].map((c) => shards[c]!.share), await identities(['node-1', 'node-2', 'node-3']));
    const relabelled = { ...refreshed['node-1']!, epoch: 1 };
    assert.equal(relabelled.keyId, keyId);
    const node = await SigningNode.open(ws, 'node-1');
    const s = session('c-relabelled');
    await assert.rejects(signStart(node, await start(s, relabelled)), (e: any) => e.code === 'WRONG_KEY' && e.message.includes('node-1'));
    assert.deepEqual((await node.attest(nodeDraft(state))).holds, []);
  });

  test('a run that outlives its lifetime is aborted and holds nothing', async () => {
    const node = await SigningNode.open(ws, 'node-1', { runLifetimeMs: 50 });
    const s = session('c-slow');
    await signStart(node, await start(s));
    assert.deepEqual((await node.attest(nodeDraft(state))).holds, [{ keyId, epoch: 1 }]);
    await new Promise((done) => setTimeout(done, 150));
    assert.deepEqual((await node.attest(nodeDraft(state))).holds, []);
    await assert.rejects(node.receive(sessionIdOf(s), []), (e: any) => e.code === 'NO_SUCH_RUN');
    // The key is free again for a new session.
    const next = session('c-after-slow');
    await signStart(node, await start(next));
    await node.abort(sessionIdOf(next));
  });

  test('refuses to delete or export anything but a share in its store', async () => {
    const node = await SigningNode.open(ws, 'node-1');
    const target = join(tw.root, 'holdings', 'generator', 'generator.identity.age');
    for (const h of [{ keyId: '../../../holdings/generator/generator', epoch: 'identity' }, { keyId, epoch: 0 }, { keyId, epoch: 1.5 }]) {
      await assert.rejects(node.deleteShare(h as any, nodeDraft(state)), (e: any) => e.code === 'BAD_REQUEST' && e.message.includes('node-1'));
      await assert.rejects(node.exportShard(h as any, 'age1x', nodeDraft(state)), (e: any) => e.code === 'BAD_REQUEST');
    }
    assert.ok(existsSync(target));
  });
});
