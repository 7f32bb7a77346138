import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { sha256Hex } from '../../src/base/canonical.js';
import { independentVerify } from '../../src/ceremony/independent-verify.js';
import { newIdentity, unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { signObject } from '../../src/base/ed25519.js';
import { sessionIdOf, type SessionParams } from '../../src/engine/index.js';
import { Workspace } from '../../src/fs/workspace.js';
import { signNodeRequest } from '../../src/node/http-auth.js';
import type { StartInputs } from '../../src/node/client.js';
import { HttpNode } from '../../src/node/http-client.js';
import { loadState } from '../../src/audit/state.js';
import { sealForNode, signRequest } from '../../src/node/request.js';
import { member } from '../../src/state/roster.js';
import { nodeDraft, signStart } from '../support/node.js';
import { keyrite } from '../support/cli.js';
import { serve, type Served } from '../support/serve.js';
import { CUSTODIANS, everyone, keygen, lifecycleWorkspace, nodeShareFiles, readShard, shardFile } from '../support/lifecycle.js';
import { ok, type TestWorkspace } from '../support/workspace.js';

// Three real `keyrite node serve` processes on 127.0.0.1 carry a keygen and a signature; the
// nodes refuse forged, replayed and unauthorised requests, a path outside their store, a second
// signing run on one key, and a signing session used before, also after a restart.

async function post(url: string, body: unknown): Promise<any> {
  const res = await fetch(`${url}/rpc/${(body as { method?: string }).method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.json();
}

test('a node listens on the loopback interface only', async () => {
  const r = await keyrite(['node', 'serve', '--json', '--node', 'node-1', '--listen', '0.0.0.0:0']);
  assert.equal(r.code, 2);
  assert.equal(JSON.parse(r.stdout).error.code, 'NOT_LOOPBACK');
});

describe('nodes over HTTP', () => {
  let tw: TestWorkspace;
  let ws: Workspace;
  const servers: Served[] = [];
  let nodesArg: string;
  let keyId: string;
  let generator: Identity;

  before(async () => {
    tw = await lifecycleWorkspace();
    ws = new Workspace(tw.root);
    for (const n of ['node-1', 'node-2', 'node-3']) servers.push(await serve(tw.root, n));
    nodesArg = servers.map((s, i) => `node-${i + 1}=${s.url}`).join(',');
    generator = await unlockIdentity(readFileSync(tw.identityFile('generator')), tw.passphrases.generator!, 'generator');
  });
  after(() => {
    for (const s of servers) s.child.kill('SIGTERM');
  });

  /** alice's call to node-1 for a signing session of `ceremonyId`, as the sign ceremony makes it. */
  async function aliceStart(ceremonyId: string): Promise<{ session: SessionParams } & StartInputs['sign']> {
    const alice = await unlockIdentity(readFileSync(tw.identityFile('alice')), tw.passphrases.alice!, 'alice');
    const shard = await readShard(tw, 'alice', shardFile(tw, 'alice', keyId));
    const state = await loadState(ws);
    const roster = state.requireRoster();
    const message = Buffer.from(sha256Hex(ceremonyId), 'hex');
    const session: SessionParams = { engine: 'bip340', keyId, epoch: 1, participants: ['node-1', 'node-2'], t: 2, n: 3, ceremonyId, rosterDigest: state.rosterDigest };
    const request = { v: 1 as const, keyId, epoch: 1, messageDigest: sha256Hex(message), signers: ['alice', 'bob'], sessionId: sessionIdOf(session) };
    const share = await sealForNode(member(roster, 'node-1', 'node').recipient, shard.share);
    return { session, request: signRequest('alice', alice.signing, request), share, message: message.toString('hex') };
  }

  test('keygen with export and deletion runs on the served nodes', async () => {
    const k = ok(await tw.kr(['keygen', '--json', '--engine', 'bip340', '--custodians', CUSTODIANS.join(','), '--label', 'http', '--export', '--delete-after-export', '--nodes', nodesArg, ...everyone(tw)]));
    keyId = k.keyId;
    assert.equal(k.nodesEmpty, true);
    assert.deepEqual(nodeShareFiles(tw), []);
  });

  test('sign runs on the served nodes, and the signature verifies', async () => {
    const message = Buffer.from(sha256Hex('an http sighash'), 'hex');
    const r = ok(await tw.kr(['sign', '--json', '--key', keyId, '--signer', 'alice', '--signer', 'bob', '--message-hex', message.toString('hex'), '--nodes', nodesArg, ...everyone(tw)]));
    assert.ok(independentVerify('bip340', r.publicKey, message, r.signature));
    assert.deepEqual(nodeShareFiles(tw), []);
  });

  test('a request signed by a key not in the roster is refused', async () => {
    const forger = await newIdentity('generator', 'generator');
    const r = await post(servers[0]!.url, signNodeRequest(forger, 'node-1', 'attest', null));
    assert.equal(r.error.code, 'BAD_SIGNATURE');
  });

  test('a request altered after signing is refused', async () => {
    const q = signNodeRequest(generator, 'node-1', 'holdings', null);
    assert.equal((await post(servers[0]!.url, { ...q, method: 'attest' })).error.code, 'BAD_SIGNATURE');
  });

  test('a replayed request is refused', async () => {
    const q = signNodeRequest(generator, 'node-1', 'holdings', null);
    assert.equal((await post(servers[0]!.url, q)).ok, true);
    assert.equal((await post(servers[0]!.url, q)).error.code, 'REPLAYED_REQUEST');
  });

  test('a request from outside the time window is refused', async () => {
    const { sig: _sig, ...body } = signNodeRequest(generator, 'node-1', 'holdings', null);
    const stale = { ...body, time: Date.now() - 10 * 60_000 };
    assert.equal((await post(servers[0]!.url, { ...stale, sig: signObject(generator.signing, stale) })).error.code, 'STALE_REQUEST');
  });

  test('a request for another node, or from a witness, is refused', async () => {
    assert.equal((await post(servers[0]!.url, signNodeRequest(generator, 'node-2', 'holdings', null))).error.code, 'WRONG_NODE');
    const witness = await unlockIdentity(readFileSync(tw.identityFile(tw.witness)), tw.passphrases[tw.witness]!, tw.witness);
    assert.equal((await post(servers[0]!.url, signNodeRequest(witness, 'node-1', 'holdings', null))).error.code, 'NOT_PERMITTED');
  });

  test('a second signing run on the same key, concurrent or later, is refused while one is in progress', async () => {
    const state = await loadState(ws);
    const record = state.key(keyId);
    const node = new HttpNode('node-1', servers[0]!.url, generator);
    const start = async (ceremonyId: string) => {
      const call = await aliceStart(ceremonyId);
      await signStart(node, call);
      return call.session;
    };
    assert.equal(record.status, 'active');
    // Two at once: exactly one starts.
    const both = await Promise.allSettled([start('c-first'), start('c-second')]);
    const started = both.filter((x): x is PromiseFulfilledResult<SessionParams> => x.status === 'fulfilled');
    const busy = both.filter((x): x is PromiseRejectedResult => x.status === 'rejected');
    assert.equal(started.length, 1);
    assert.equal(busy[0]?.reason.code, 'NODE_BUSY');
    // And one after the other, while the first is still running.
    await assert.rejects(start('c-third'), (e: any) => e.code === 'NODE_BUSY');
    await node.abort(sessionIdOf(started[0]!.value));
    assert.deepEqual((await node.attest(nodeDraft(state))).holds, []);
  });

  test('only the key generator may delete, and a holding that names a path outside the store is refused', async () => {
    const kept = await keygen(tw, 'ed25519', []);
    const before = nodeShareFiles(tw).sort();
    const target = tw.identityFile(tw.generator);
    const traversal = { keyId: '../../../holdings/generator/generator', epoch: 'identity' };
    const alice = await unlockIdentity(readFileSync(tw.identityFile('alice')), tw.passphrases.alice!, 'alice');
    // A custodian may not delete at all, not even a real holding.
    for (const params of [traversal, { keyId: kept.keyId, epoch: 1 }]) {
      const r = await post(servers[0]!.url, signNodeRequest(alice, 'node-1', 'deleteShare', { holding: params }));
      assert.equal(r.error.code, 'NOT_PERMITTED');
      assert.match(r.error.message, /alice is a custodian/);
    }
    for (const [method, params] of [['start', { kind: 'dkg' }], ['keep', {}], ['exportShard', {}]] as const) {
      assert.equal((await post(servers[0]!.url, signNodeRequest(alice, 'node-1', method, params))).error.code, 'NOT_PERMITTED', method);
    }
    // The generator may, but only a key id and an epoch.
    for (const params of [traversal, { keyId: kept.keyId, epoch: '1' }, { keyId: kept.keyId, epoch: 0 }, null]) {
      const r = await post(servers[0]!.url, signNodeRequest(generator, 'node-1', 'deleteShare', { holding: params, draft: nodeDraft(await loadState(ws)) }));
      assert.equal(r.error.code, 'BAD_REQUEST', JSON.stringify(params));
    }
    // Not even the generator may delete a share whose shard was never exported: the party would be lost.
    const lost = await post(servers[0]!.url, signNodeRequest(generator, 'node-1', 'deleteShare', { holding: { keyId: kept.keyId, epoch: 1 }, draft: nodeDraft(await loadState(ws)) }));
    assert.equal(lost.error.code, 'NOT_PERMITTED');
    assert.match(lost.error.message, /no exported shard of party node-1 is recorded/);
    assert.ok(existsSync(target), 'the generator\'s identity file is still there');
    assert.deepEqual(nodeShareFiles(tw).sort(), before, 'no share was deleted');
  });

  test('a captured signing start sent again in a fresh, validly signed request is refused, also after the node restarts', async () => {
    const captured = await aliceStart('c-once');
    const { session, ...inputs } = captured;
    const sendAgain = (url: string) => post(url, signNodeRequest(generator, 'node-1', 'start', { kind: 'sign', session, inputs }));
    assert.equal((await sendAgain(servers[0]!.url)).ok, true);
    assert.equal((await post(servers[0]!.url, signNodeRequest(generator, 'node-1', 'abort', { sessionId: captured.request.request.sessionId }))).ok, true);
    const again = await sendAgain(servers[0]!.url);
    assert.equal(again.error.code, 'SESSION_REUSED');
    assert.match(again.error.message, /node-1/);
    // Restart node-1: it remembers the session from nodes/node-1/sessions.
    servers[0]!.child.kill('SIGTERM');
    await once(servers[0]!.child, 'exit');
    servers[0] = await serve(tw.root, 'node-1', ['--run-timeout', '1']);
    assert.equal((await sendAgain(servers[0]!.url)).error.code, 'SESSION_REUSED');
    assert.ok(!(await new HttpNode('node-1', servers[0]!.url, generator).attest(nodeDraft(await loadState(ws)))).holds.some((h) => h.keyId === keyId));
  });

  test('a served node aborts a run that outlives --run-timeout, and then holds nothing', async () => {
    const call = await aliceStart('c-abandoned');
    const node = new HttpNode('node-1', servers[0]!.url, generator);
    await signStart(node, call);
    const holdsKey = async () => (await node.attest(nodeDraft(await loadState(ws)))).holds.some((h) => h.keyId === keyId);
    assert.equal(await holdsKey(), true);
    await new Promise((done) => setTimeout(done, 1500));
    assert.equal(await holdsKey(), false);
    await assert.rejects(node.receive(call.request.request.sessionId, []), (e: any) => e.code === 'NO_SUCH_RUN');
  });
});
