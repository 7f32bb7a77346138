import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { sha256Hex } from '../src/canonical.js';
import { independentVerify } from '../src/ceremony/independent-verify.js';
import { newIdentity, unlockIdentity, type Identity } from '../src/custody/identity.js';
import { signObject } from '../src/custody/signing.js';
import { sessionIdOf, type SessionParams } from '../src/engine/index.js';
import { Workspace } from '../src/fs/workspace.js';
import { signNodeRequest } from '../src/node/http-auth.js';
import { HttpNode } from '../src/node/http-client.js';
import { loadKeyRecord } from '../src/node/key-record.js';
import { sealForNode, signRequest } from '../src/node/request.js';
import { loadRoster, member, rosterDigest } from '../src/transcript/roster.js';
import { BIN, keyrite } from './helpers/cli.js';
import { CUSTODIANS, everyone, lifecycleWorkspace, nodeShareFiles, readShard, shardFile } from './helpers/lifecycle.js';
import { ok, type TestWorkspace } from './helpers/workspace.js';

// Three real `keyrite node serve` processes on 127.0.0.1 carry a keygen and a signature; the
// nodes refuse forged, replayed and unauthorised requests and a second signing run on one key.

function serve(root: string, node: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, '--workspace', root, 'node', 'serve', '--node', node, '--listen', '127.0.0.1:0'], { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) done({ child, url: m[1]! });
    });
    child.on('exit', (code) => fail(new Error(`${node} exited (${code}): ${err}`)));
  });
}

async function post(url: string, body: unknown): Promise<any> {
  const res = await fetch(`${url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
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
  const servers: { child: ChildProcess; url: string }[] = [];
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
    const alice = await unlockIdentity(readFileSync(tw.identityFile('alice')), tw.passphrases.alice!, 'alice');
    const shard = await readShard(tw, 'alice', shardFile(tw, 'alice', keyId));
    const roster = loadRoster(ws);
    const record = loadKeyRecord(ws, keyId);
    const message = Buffer.from(sha256Hex('busy'), 'hex');
    const node = new HttpNode('node-1', servers[0]!.url, generator);
    const start = async (ceremonyId: string) => {
      const session: SessionParams = { engine: 'bip340', keyId, epoch: 1, participants: ['node-1', 'node-2'], t: 2, n: 3, ceremonyId, rosterDigest: rosterDigest(roster) };
      const request = { v: 1 as const, keyId, epoch: 1, messageDigest: sha256Hex(message), signers: ['alice', 'bob'], sessionId: sessionIdOf(session) };
      const share = await sealForNode(member(roster, 'node-1', 'node').recipient, shard.share);
      await node.startSign({ session, request: signRequest('alice', alice.signing, request), share, message: message.toString('hex') });
      return session;
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
    assert.deepEqual((await node.attest()).holds, []);
  });
});
