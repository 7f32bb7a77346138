import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { sha256Hex } from '../../src/base/canonical.js';
import { isErrorCode } from '../../src/base/errors.js';
import { unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { openShard } from '../../src/custody/shard.js';
import { sessionIdOf, type SessionParams } from '../../src/engine/index.js';
import { Workspace } from '../../src/fs/workspace.js';
import { signNodeRequest } from '../../src/node/http-auth.js';
import { serveNode, type Serving } from '../../src/node/http-server.js';
import { sealForNode, signRequest } from '../../src/node/request.js';
import { copyGolden, PEOPLE } from '../../fixtures/golden.js';
import { snapshot } from '../support/cli.js';
import { anyJson, fuzzRuns, mutatedJson, type Json } from '../support/fuzz.js';

// Property tests of a served node's HTTP interface (docs/ARCHITECTURE.md §2, "Over HTTP"): a real
// server in this process (src/node/http-server.ts) on 127.0.0.1, on a copy of the golden
// workspace, fed random methods, paths, headers and bodies (random bytes, random JSON, JSON nested
// thousands deep), and requests properly signed by the key generator whose parameters are random
// or a real call's with one node replaced or removed. Every answer is JSON: a refusal with a 4xx
// status and a code of the errors table, never INTERNAL or a 5xx (a 503 for an overloaded node
// aside, which these sequential requests never cause); a refusal changes no file; and the server
// stays up and answers a valid request at the end.

const TIMEOUT = { timeout: 5 * 60_000 };
const NODE = 'node-2';
const KEY = 'kb5a3d5c8a31343e2';
const METHOD_NAMES = ['holdings', 'start', 'receive', 'keep', 'abort', 'exportShard', 'deleteShare', 'attest'];

const root = copyGolden('keyrite-fuzz-http-');
let served: Serving;
let gen: Identity;
let bob: Identity;
let signStart: Json;

before(async () => {
  served = await serveNode(new Workspace(root), NODE, { host: '127.0.0.1', port: 0 });
  const pass = (n: string) => readFileSync(join(PEOPLE, `${n}.pass`), 'utf8').trim();
  gen = await unlockIdentity(readFileSync(join(root, 'holdings', 'gen', 'gen.identity.age')), pass('gen'), 'gen');
  bob = await unlockIdentity(readFileSync(join(root, 'holdings', 'bob', 'bob.identity.age')), pass('bob'), 'bob');
  // A real signing start for bob's party, as the sign ceremony makes it: the call whose parameters are damaged.
  const shard = await openShard(readFileSync(join(root, 'holdings', 'bob', `bob.${KEY}.e1.shard.age`)), bob.ageIdentity, 'bob\'s shard');
  const roster = JSON.parse(readFileSync(join(root, 'roster.json'), 'utf8'));
  const session: SessionParams = { engine: 'ed25519', keyId: KEY, epoch: 1, participants: ['node-1', 'node-2'], t: 2, n: 3, ceremonyId: 'fuzz', rosterDigest: sha256Hex('fuzz') };
  const message = Buffer.from('fuzz');
  const q = { v: 1 as const, keyId: KEY, epoch: 1, messageDigest: sha256Hex(message), signers: ['alice', 'bob'], sessionId: sessionIdOf(session) };
  const nodeRecipient = roster.nodes.find((n: { name: string }) => n.name === NODE).recipient;
  signStart = { kind: 'sign', session, inputs: { request: signRequest('bob', bob.signing, q), share: await sealForNode(nodeRecipient, shard.share), message: message.toString('hex') } } as unknown as Json;
});
after(async () => {
  await served?.close();
  rmSync(root, { recursive: true, force: true });
});

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** Sends one request on its own connection; the answer's status and body. */
function send(s: Sent): Promise<{ status: number; body: string }> {
  const url = new URL(served.url);
  return new Promise((done, fail) => {
    const req = request({ host: url.hostname, port: url.port, method: s.method, path: s.path, headers: { ...s.headers, 'content-length': String(s.body.length), connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', fail);
    });
    // The server may answer and close before it has read a refused body.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? done({ status: -1, body: '' }) : fail(e)));
    req.end(s.body);
  });
}

/** The answer is a JSON success, or a JSON refusal with a 4xx status and a known code; a refusal changed nothing. */
async function checkAnswer(s: Sent): Promise<void> {
  const before = snapshot(root);
  const r = await send(s);
  if (r.status === -1) return assertStillUp(); // cut off mid-body after the answer: the server's choice, not a failure
  let body: { ok?: boolean; error?: { code?: string; message?: string } };
  try {
    body = JSON.parse(r.body);
  } catch {
    return assert.fail(`${s.method} ${s.path}: status ${r.status}, not JSON: ${r.body.slice(0, 200)}`);
  }
  if (r.status === 200) return assert.equal(body.ok, true);
  assert.ok(r.status >= 400 && r.status < 500, `${s.method} ${s.path}: status ${r.status}: ${r.body.slice(0, 300)}`);
  assert.equal(body.ok, false);
  const code = body.error?.code ?? '';
  assert.ok(isErrorCode(code) && code !== 'INTERNAL', `${s.method} ${s.path}: code ${code}: ${body.error?.message}`);
  assert.ok(typeof body.error?.message === 'string' && body.error.message.length > 0);
  assert.deepEqual(snapshot(root), before, 'a refused request changes no file');
}

async function assertStillUp(): Promise<void> {
  const r = await send({ method: 'POST', path: '/rpc/holdings', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(signNodeRequest(gen, NODE, 'holdings', null))) });
  assert.equal(r.status, 200, `the node no longer answers: ${r.body}`);
}

const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/);
const headerValue = fc.stringMatching(/^[ -~]{0,60}$/).map((v) => v.trim());
const nested = fc.record({ n: fc.integer({ min: 1, max: 5000 }), open: fc.constantFrom('[', '{"a":', '[{"b":') }).map(({ n, open }) => {
  const close = open === '[' ? ']' : open === '{"a":' ? '}' : '}]';
  return open.repeat(n) + '1' + close.repeat(n);
});
const anyBody = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
  fc.json().map((t) => Buffer.from(t)),
  anyJson.map((v) => Buffer.from(JSON.stringify(v) ?? '')),
  nested.map((t) => Buffer.from(t)),
);

test('any method, path, headers and body from an unauthenticated caller gets a JSON refusal with a 4xx status', TIMEOUT, async () => {
  const sent: fc.Arbitrary<Sent> = fc.record({
    method: fc.oneof({ weight: 6, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') }),
    path: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...METHOD_NAMES).map((m) => `/rpc/${m}`) },
      { weight: 1, arbitrary: fc.oneof(fc.webPath(), fc.constantFrom('/', '/rpc/', '/rpc/toString', '/rpc/__proto__', '/rpc/holdings?x=1', '//rpc/holdings')) },
    ),
    headers: fc.dictionary(token.filter((k) => !['content-length', 'connection', 'transfer-encoding', 'host', 'expect', 'upgrade'].includes(k.toLowerCase())), headerValue, { maxKeys: 4 }),
    body: anyBody,
  });
  await fc.assert(fc.asyncProperty(sent, checkAnswer), { numRuns: fuzzRuns(150) });
  await assertStillUp();
});

test('requests signed by the key generator, with random or damaged parameters, get a JSON answer and never INTERNAL', TIMEOUT, async () => {
  const call = fc.record({
    method: fc.constantFrom(...METHOD_NAMES),
    params: fc.oneof(anyJson, mutatedJson([signStart]), mutatedJson([{ sessionId: 'ab'.repeat(32), incoming: [] }, { holding: { keyId: KEY, epoch: 1, party: NODE }, draft: { ceremony: '9999-x', seq: 0, prev: null, roster: 'ab'.repeat(32), script: 'cd'.repeat(32) } }])),
    // Mostly sent to the method it is signed for; sometimes to another.
    path: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...METHOD_NAMES) }),
  });
  await fc.assert(
    fc.asyncProperty(call, async ({ method, params, path }) => {
      const body = Buffer.from(JSON.stringify(signNodeRequest(gen, NODE, method, params ?? null)));
      await checkAnswer({ method: 'POST', path: `/rpc/${path ?? method}`, headers: { 'content-type': 'application/json' }, body });
    }),
    { numRuns: fuzzRuns(80) },
  );
  await assertStillUp();
});
