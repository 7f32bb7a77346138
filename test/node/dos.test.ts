import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { signNodeRequest } from '../../src/node/http-auth.js';
import { rssKiB, serve, type Served } from '../support/serve.js';
import { lifecycleWorkspace } from '../support/lifecycle.js';
import type { TestWorkspace } from '../support/workspace.js';

// A real `keyrite node serve` on 127.0.0.1 under cheap attacks by a caller who is not
// authenticated (docs/ARCHITECTURE.md §2, "Over HTTP"): 150 connections each pushing a large
// body, and JSON nested thousands deep. The node refuses or closes them, its memory stays
// bounded, it stays up and answers a valid request; and a run can be aborted only by its starter.

async function post(url: string, path: string, body: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('a served node under load from unauthenticated callers', () => {
  let tw: TestWorkspace;
  let server: Served & { port: number };
  let generator: Identity;
  let alice: Identity;

  before(async () => {
    tw = await lifecycleWorkspace();
    const served = await serve(tw.root, 'node-1');
    server = { ...served, port: Number(new URL(served.url).port) };
    generator = await unlockIdentity(readFileSync(tw.identityFile('generator')), tw.passphrases.generator!, 'generator');
    alice = await unlockIdentity(readFileSync(tw.identityFile('alice')), tw.passphrases.alice!, 'alice');
  });
  after(() => {
    server.child.kill('SIGTERM');
  });

  const stillAnswers = async () => {
    const r = await post(server.url, '/rpc/holdings', JSON.stringify(signNodeRequest(generator, 'node-1', 'holdings', null)));
    assert.equal(r.status, 200);
    assert.equal(r.json.ok, true);
  };

  test('150 connections each pushing a large body: refused or closed, memory bounded, the node still answers', async () => {
    const before = rssKiB(server.child.pid!);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const sockets: Socket[] = [];
    const closed = new Set<Socket>();
    const answers: string[] = [];
    await Promise.all(Array.from({ length: 150 }, () => new Promise<void>((done) => {
      const s = connect(server.port, '127.0.0.1', () => {
        s.write(`POST /rpc/receive HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${4 * 1024 * 1024}\r\n\r\n`);
        // 3 MiB of a 4 MiB body, then silence: the old node buffered all of it, per connection.
        let sent = 0;
        const push = () => {
          while (sent < 48 && !s.destroyed && s.write(chunk)) sent++;
          if (sent < 48 && !s.destroyed) s.once('drain', push);
          else done();
        };
        push();
      });
      s.on('error', () => undefined);
      // Read what the node answers (a paused socket would never see the node close it).
      s.on('data', (d) => answers.push(d.toString().split('\r\n')[0]!));
      s.on('close', () => {
        closed.add(s);
        done();
      });
      sockets.push(s);
    })));
    try {
      // Beyond the connection cap a connection is closed at once; beyond the body cap it is
      // answered 503 and closed; the few bodies in progress wait for the request time limit.
      for (let waited = 0; closed.size < 140 && waited < 8_000; waited += 250) await sleep(250);
      const grown = rssKiB(server.child.pid!) - before;
      // Unbounded, 150 × 3 MiB would be about 450 MiB; the caps allow 8 bodies in progress.
      assert.ok(grown < 96 * 1024, `the node grew by ${Math.round(grown / 1024)} MiB`);
      assert.ok(closed.size >= 140, `only ${closed.size} of 150 connections were refused or closed; answers: ${answers.join(', ')}`);
    } finally {
      for (const s of sockets) s.destroy();
    }
    await sleep(200);
    await stillAnswers();
  });

  test('an idle connection is closed once the header time limit passes', async () => {
    const s = connect(server.port, '127.0.0.1');
    s.on('error', () => undefined);
    s.resume(); // read on, so the node's closing is seen
    await new Promise((done) => s.once('connect', done));
    s.write('POST /rpc/holdings HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // headers never finished
    const t0 = Date.now();
    await new Promise((done) => s.once('close', done));
    assert.ok(Date.now() - t0 < 10_000, 'the idle connection outlived the header time limit');
    await stillAnswers();
  });

  test('deeply nested JSON is refused before it is parsed or canonicalized, and the node still answers', async () => {
    for (const [label, body] of [
      ['nested arrays', '['.repeat(200_000) + ']'.repeat(200_000)],
      ['nested params in a signed-looking request', JSON.stringify({ v: 1, node: 'node-1', method: 'holdings', from: 'generator', nonce: '0'.repeat(32), time: Date.now(), sig: '0'.repeat(128) }).replace('"holdings"', '"holdings","params":' + '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000))],
    ] as const) {
      const r = await post(server.url, '/rpc/holdings', body);
      assert.ok(r.status >= 400 && r.status < 500, `${label}: HTTP ${r.status}`);
      assert.ok(['BAD_REQUEST', 'TOO_LARGE'].includes(r.json?.error?.code), `${label}: ${JSON.stringify(r.json)}`);
    }
    // Within the body limit of a big call, too.
    const deep = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    const r = await post(server.url, '/rpc/receive', deep);
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'BAD_REQUEST');
    assert.match(r.json.error.message, /nested deeper/);
    await stillAnswers();
  });

  test('each method takes a body no larger than it needs', async () => {
    const r = await post(server.url, '/rpc/holdings', JSON.stringify({ pad: 'x'.repeat(100 * 1024) }));
    assert.equal(r.status, 413);
    assert.equal(r.json.error.code, 'TOO_LARGE');
    assert.equal((await post(server.url, '/rpc/nosuch', '{}')).status, 404);
    await stillAnswers();
  });

  test('the caller, node, time and nonce are checked before the signature', async () => {
    const q = signNodeRequest(generator, 'node-1', 'holdings', null);
    for (const bad of [{ ...q, from: '../../generator' }, { ...q, from: 'x'.repeat(10_000) }, { ...q, time: 1e300 }, { ...q, nonce: 'zz' }, { ...q, sig: 'not hex' }]) {
      const r = await post(server.url, '/rpc/holdings', JSON.stringify(bad));
      assert.equal(r.json.error.code, 'BAD_REQUEST', JSON.stringify(r.json));
    }
    const sent = await post(server.url, '/rpc/attest', JSON.stringify(q));
    assert.equal(sent.json.error.code, 'BAD_REQUEST', 'a request sent to another method than it was signed for');
    assert.match(sent.json.error.message, /signed for holdings/);
  });

  test('the served node cannot dump core: its core-file limit is 0, soft and hard (Linux, with prlimit)', { skip: !existsSync('/usr/bin/prlimit') && !existsSync('/bin/prlimit') }, () => {
    const line = readFileSync(`/proc/${server.child.pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max core file size'));
    assert.match(line ?? '', /^Max core file size\s+0\s+0\s+bytes/);
  });

  test('a run is aborted only by the caller who started it', async () => {
    const session = { engine: 'ed25519', keyId: 'new', epoch: 0, participants: ['node-1', 'node-2', 'node-3'], t: 2, n: 3, ceremonyId: '9999-dos', rosterDigest: '' };
    const { loadState } = await import('../../src/audit/state.js');
    const { Workspace } = await import('../../src/fs/workspace.js');
    const { sessionIdOf } = await import('../../src/engine/index.js');
    session.rosterDigest = (await loadState(new Workspace(tw.root))).rosterDigest;
    const started = await post(server.url, '/rpc/start', JSON.stringify(signNodeRequest(generator, 'node-1', 'start', { kind: 'dkg', session, inputs: {} })));
    assert.equal(started.json.ok, true, JSON.stringify(started.json));
    const sessionId = sessionIdOf(session as never);
    const byAlice = await post(server.url, '/rpc/abort', JSON.stringify(signNodeRequest(alice, 'node-1', 'abort', { sessionId })));
    assert.equal(byAlice.json.error.code, 'NOT_PERMITTED');
    assert.match(byAlice.json.error.message, /alice may not abort the run of session .* which generator started/);
    const driven = await post(server.url, '/rpc/receive', JSON.stringify(signNodeRequest(alice, 'node-1', 'receive', { sessionId, incoming: [] })));
    assert.equal(driven.json.error.code, 'NOT_PERMITTED', 'nor may another custodian drive it (a bad message would abort it)');
    const byStarter = await post(server.url, '/rpc/abort', JSON.stringify(signNodeRequest(generator, 'node-1', 'abort', { sessionId })));
    assert.equal(byStarter.json.ok, true);
  });
});
