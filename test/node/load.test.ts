import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { signObject } from '../../src/base/ed25519.js';
import { newIdentity } from '../../src/custody/identity.js';
import { signNodeRequest } from '../../src/node/http-auth.js';
import { LIMITS } from '../../src/node/http-server.js';
import { abuseUntil, loadRig, post, type LoadRig } from '../support/load.js';
import { rssKiB } from '../support/serve.js';

// Three real `keyrite node serve` processes on 127.0.0.1 under load (issue 13, item 4;
// docs/ARCHITECTURE.md §2, "Over HTTP"): whole signing runs on different keys at once, all
// signing; runs on one key at once, one signing and the rest refused NODE_BUSY; signing runs
// that succeed while slow, oversize and deeply nested requests hit the node, whose memory stays
// bounded; and forged and replayed requests fired at once, each refused with its code. The runs
// are driven through the HttpNode client (as test/node/http.test.ts does), not the CLI, whose
// workspace lock would serialise them. test/node/dos.test.ts covers each attack alone. No timing
// is asserted here: runs per second and memory are the bench's (bench/serve.ts).

const KEYS = 3;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('served nodes under load', () => {
  let rig: LoadRig;
  const signRun = (keyId: string, label: string) => rig.signRun(keyId, label);
  const holdsNothing = () => rig.holdsNothing();

  before(async () => {
    rig = await loadRig(KEYS);
  });
  after(() => rig.stop());

  test(`${KEYS} whole signing runs on ${KEYS} different keys at once, twice over: every one signs`, async () => {
    for (let round = 0; round < 2; round++) await Promise.all(rig.keyIds.map((k) => signRun(k, `different-${round}`)));
    await holdsNothing();
  });

  test('runs on one key at once: one signs, every other is refused NODE_BUSY, and the key signs again after', async () => {
    const keyId = rig.keyIds[0]!;
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => signRun(keyId, `same-${i}`)));
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    assert.equal(outcomes.length - refused.length, 1, `exactly one run signs: ${refused.map((r) => r.reason?.message).join('; ')}`);
    for (const r of refused) assert.equal(r.reason?.code, 'NODE_BUSY', String(r.reason?.message));
    await holdsNothing();
    await signRun(keyId, 'same-after');
  });

  test('signing runs succeed while slow, oversize and deeply nested requests hit node-1; its memory stays bounded', async () => {
    const target = rig.servers[0]!;
    const port = Number(new URL(target.url).port);
    const before = rssKiB(target.child.pid!);
    // Slowloris: connections that trickle a header byte every 300 ms and never finish. They hold
    // no body slot (the handler runs only once headers are complete), and stay under the
    // connection cap, so honest callers still get in; the header time limit closes each one.
    const slow: Socket[] = [];
    const closed: Promise<void>[] = [];
    const trickle = LIMITS.connections - 24;
    for (let i = 0; i < trickle; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.resume();
      closed.push(new Promise((done) => s.once('close', () => done())));
      const header = `POST /rpc/holdings HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(400)}`;
      let at = 0;
      const tick = setInterval(() => (s.destroyed || at >= header.length ? clearInterval(tick) : s.write(header[at++]!)), 300);
      s.once('close', () => clearInterval(tick));
      slow.push(s);
    }
    let attacked!: () => void;
    const abuse = abuseUntil(target.url, new Promise<void>((done) => (attacked = done)));
    try {
      await Promise.all(rig.keyIds.map((k) => signRun(k, 'attacked')));
      attacked();
      assert.deepEqual([...(await abuse)].sort(), ['BAD_REQUEST', 'HTTP/1.1 413 Payload Too Large'], 'nested JSON refused as BAD_REQUEST, oversize bodies with 413');
      // The header limit (5 s) and the server's check interval (1 s) close every slow connection.
      const t0 = Date.now();
      await Promise.race([Promise.all(closed), sleep(LIMITS.headersTimeoutMs + 5_000)]);
      assert.equal(slow.filter((s) => !s.destroyed && !s.closed).length, 0, `slow connections still open after ${Date.now() - t0} ms`);
      // The bound: 40 sockets with their header buffers (at most 16 KiB each) are well under a
      // MiB; each refused body (a 400 kB nested array; 64 KiB of one announced as 4 MiB) is read
      // once, one at a time, and dropped; the runs hold a few kB each. 64 MiB leaves room for V8's
      // heap growing before it collects (about 11 MiB here), not for keeping what the loop posts.
      const grown = rssKiB(target.child.pid!) - before;
      assert.ok(grown < 64 * 1024, `node-1 grew by ${Math.round(grown / 1024)} MiB`);
    } finally {
      attacked();
      await abuse.catch(() => undefined);
      for (const s of slow) s.destroy();
    }
    await signRun(rig.keyIds[1]!, 'after-attack');
    await holdsNothing();
  });

  test('forged and replayed requests fired at once, during a run: each refused with its code, the run unharmed', async () => {
    const url = rig.servers[0]!.url;
    const keyId = rig.keyIds[2]!;
    const run = signRun(keyId, 'beside-forgeries');
    const forger = await newIdentity('alice', 'custodian'); // a custodian's name, not their key
    const mallory = await newIdentity('mallory', 'custodian'); // nobody in the roster
    const alice = rig.people.alice!;
    const generator = rig.people.generator!;
    const valid = signNodeRequest(generator, 'node-1', 'holdings', null);
    const { sig: _sig, ...body } = signNodeRequest(alice, 'node-1', 'holdings', null);
    const cases: [string, unknown, string][] = [
      ['a request signed with a key that is not the caller\'s', signNodeRequest(forger, 'node-1', 'holdings', null), 'BAD_SIGNATURE'],
      ['a signature taken from another request', { ...body, sig: valid.sig }, 'BAD_SIGNATURE'],
      ['a caller not in the roster', signNodeRequest(mallory, 'node-1', 'holdings', null), 'NOT_PERMITTED'],
      ['a custodian starting a DKG', signNodeRequest(alice, 'node-1', 'start', { kind: 'dkg' }), 'NOT_PERMITTED'],
      ['a custodian exporting a share', signNodeRequest(alice, 'node-1', 'exportShard', {}), 'NOT_PERMITTED'],
      ['a custodian keeping a run\'s share', signNodeRequest(alice, 'node-1', 'keep', {}), 'NOT_PERMITTED'],
      ['a request for node-2 sent to node-1', signNodeRequest(generator, 'node-2', 'holdings', null), 'WRONG_NODE'],
      ['a request from ten minutes ago', ((q) => ({ ...q, sig: signObject(generator.signing, q) }))({ ...body, from: 'generator', time: Date.now() - 10 * 60_000 }), 'STALE_REQUEST'],
    ];
    const [answers, replays] = await Promise.all([
      Promise.all(cases.map(([, q, m]) => post(url, (q as { method: string }).method, JSON.stringify(q)).then((r) => [r, m] as const))),
      // The same signed request eight times at once: the node takes exactly one.
      Promise.all(Array.from({ length: 8 }, () => post(url, 'holdings', JSON.stringify(valid)))),
    ]);
    answers.forEach(([r, code], i) => {
      assert.equal(r.json?.error?.code, code, `${cases[i]![0]}: ${JSON.stringify(r.json)}`);
      assert.ok(r.status >= 400 && r.status < 500, `${cases[i]![0]}: HTTP ${r.status}`);
    });
    assert.equal(replays.filter((r) => r.json?.ok === true).length, 1, 'exactly one of the eight copies is taken');
    assert.deepEqual(replays.filter((r) => r.json?.ok !== true).map((r) => r.json?.error?.code), Array(7).fill('REPLAYED_REQUEST'));
    await run;
    await holdsNothing();
  });
});
