import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { canonical, digestOf, sha256Hex } from '../../src/base/canonical.js';
import { isErrorCode } from '../../src/base/errors.js';
import { readApprovalFile, readRequest } from '../../src/ceremony/approve.js';
import type { Operator } from '../../src/ceremony/kernel/operator.js';
import { withSession } from '../../src/ceremony/kernel/session.js';
import { currentRoster, listKeys } from '../../src/ceremony/queries.js';
import { publicOf, unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { openShard, type ShardPayload } from '../../src/custody/shard.js';
import { sessionIdOf, type SessionParams } from '../../src/engine/index.js';
import { Workspace } from '../../src/fs/workspace.js';
import { checkRenewal, checkRequest, signRequest, type RenewalRequest, type SignedRequest, type SignRequest } from '../../src/node/request.js';
import { newRequest, signApproval } from '../../src/state/approval-request.js';
import type { KeyRecord } from '../../src/state/key-record.js';
import { member, type Roster } from '../../src/state/roster.js';
import { copyGolden, PEOPLE } from '../../fixtures/golden.js';
import { ROOT, snapshot, tempDir } from '../support/cli.js';
import { anyJson, assertCleanError, attempt, fuzzRuns, mutatedJson, untrustedBytes, untrustedText, type Json } from '../support/fuzz.js';

// Property tests of the workspace files keyrite reads but never decides from, or reads before it
// decides (docs/ARCHITECTURE.md, "The fold"): the roster and key-record caches, the ceremony
// scripts and their archive, approval requests and approvals, and a custodian's signed signing
// and renewal requests as a node checks them. Each is fed damaged: its bytes, its text, its JSON
// with one node replaced or removed, and (for what a person signs) the same re-signed by that
// person. Whatever the input, the file is accepted only as the real one, or is refused with a
// KeyriteError of the errors table — never a TypeError, an INTERNAL or a hang — and a refusal
// changes no file.

const TIMEOUT = { timeout: 5 * 60_000 };
const clean = (codes?: readonly string[]) => (e: unknown, what: string) => assertCleanError(e, what, codes);

// A golden workspace copy for the caches; its fold never changes, only the files beside it.
const root = copyGolden('keyrite-fuzz-files-');
after(() => rmSync(root, { recursive: true, force: true }));
const ws = new Workspace(root);
const keyId = 'kb5a3d5c8a31343e2';
const cacheFiles = [join(root, 'roster.json'), join(root, 'keys', `${keyId}.json`)];
const genuine = new Map(cacheFiles.map((f) => [f, readFileSync(f)]));
const noOperator: Operator = new Proxy({} as Operator, { get: () => () => assert.fail('the cache check asks nobody anything') });

/** What every command does with the caches: the queries (no lock) and a ceremony's session (under the lock). */
async function useCaches(): Promise<void> {
  await currentRoster(ws);
  await listKeys(ws);
  await withSession({ ws, operator: noOperator, label: 'fuzz' }, async () => undefined);
}

test('roster and key-record caches: any content is refused with ROSTER_MISMATCH or KEY_RECORD_MISMATCH, unchanged, unless it is the real file', TIMEOUT, async () => {
  const texts = cacheFiles.map((f) => genuine.get(f)!.toString('utf8'));
  const content = fc.record({ file: fc.nat(cacheFiles.length - 1), bytes: fc.oneof(untrustedBytes([...genuine.values()]), untrustedText(texts).map((t) => Buffer.from(t, 'utf8'))) });
  await fc.assert(
    fc.asyncProperty(content, async ({ file, bytes }) => {
      const path = cacheFiles[file]!;
      writeFileSync(path, bytes);
      try {
        const before = snapshot(root);
        const r = await attempt('a command', useCaches, clean([file === 0 ? 'ROSTER_MISMATCH' : 'KEY_RECORD_MISMATCH']));
        assert.equal('value' in r, bytes.equals(genuine.get(path)!), 'only the real file passes');
        assert.deepEqual(snapshot(root), before, 'nothing changed, the damaged cache kept as evidence');
      } finally {
        writeFileSync(path, genuine.get(path)!);
      }
    }),
    { numRuns: fuzzRuns(40) },
  );
});

// A copy of the source tree and its ceremonies: script.ts reads the scripts beside the code that
// loads them (src/evidence/tool.ts, packageRoot), and keeps them for the process, so each case
// imports a fresh instance of the module from the copy.
const pkg = tempDir('keyrite-fuzz-pkg-');
after(() => rmSync(pkg, { recursive: true, force: true }));
for (const part of ['src', 'ceremonies', 'package.json']) cpSync(join(ROOT, part), join(pkg, part), { recursive: true });
symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
const scriptModule = pathToFileURL(join(pkg, 'src', 'evidence', 'script.ts')).href;
let CopyError: typeof import('../../src/base/errors.js').KeyriteError;
before(async () => {
  CopyError = ((await import(pathToFileURL(join(pkg, 'src', 'base', 'errors.ts')).href)) as typeof import('../../src/base/errors.js')).KeyriteError;
});
const signJson = readFileSync(join(pkg, 'ceremonies', 'sign.json'), 'utf8');
const signDigest = digestOf(JSON.parse(signJson));
const archived = join(pkg, 'ceremonies', 'archive', `${signDigest}.json`);
const archivedJson = readFileSync(archived, 'utf8');
let imports = 0;

test('ceremony scripts: a damaged script or archived version is refused as DAMAGED_FILE or UNKNOWN_SCRIPT, unless it is the shipped version', TIMEOUT, async () => {
  const damage = fc.record({ archive: fc.boolean(), text: untrustedText([signJson]) });
  await fc.assert(
    fc.asyncProperty(damage, async ({ archive, text }) => {
      const path = archive ? archived : join(pkg, 'ceremonies', 'sign.json');
      writeFileSync(path, text);
      try {
        const m = (await import(`${scriptModule}?case=${imports++}`)) as typeof import('../../src/evidence/script.js');
        const r = await attempt('loadScript', () => {
          const s = m.loadScript('sign');
          m.scriptsByDigest();
          return s;
        }, (e, what) => {
          assert.ok(e instanceof CopyError, `${what}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message} (${String((e as Error)?.stack).split('\n').find((l) => l.includes('/src/'))})`);
          assert.ok(isErrorCode(e.code) && ['DAMAGED_FILE', 'UNKNOWN_SCRIPT'].includes(e.code), `${what}: ${e.code} ${e.message}`);
        });
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const same = parsed !== undefined && canonical(parsed) === canonical(JSON.parse(archive ? archivedJson : signJson));
        assert.equal('value' in r, same, 'only the shipped version (in any JSON layout) loads');
        if ('value' in r) assert.equal(r.value.digest, signDigest);
      } finally {
        writeFileSync(join(pkg, 'ceremonies', 'sign.json'), signJson);
        writeFileSync(archived, archivedJson);
      }
    }),
    { numRuns: fuzzRuns(60) },
  );
});

// bob's identity and shard from the golden fixture, and the key they belong to.
let bob: Identity;
let bobShard: ShardPayload;
let record: KeyRecord;
let roster: Roster;
before(async () => {
  bob = await unlockIdentity(readFileSync(join(root, 'holdings', 'bob', 'bob.identity.age')), readFileSync(join(PEOPLE, 'bob.pass'), 'utf8').trim(), 'bob');
  bobShard = await openShard(readFileSync(join(root, 'holdings', 'bob', `bob.${keyId}.e1.shard.age`)), bob.ageIdentity, 'bob\'s shard');
  record = JSON.parse(readFileSync(join(root, 'keys', `${keyId}.json`), 'utf8')) as KeyRecord;
  roster = JSON.parse(readFileSync(join(root, 'roster.json'), 'utf8')) as Roster;
});

test('approval requests and approvals: any file is read as the real one or refused cleanly', TIMEOUT, async () => {
  const dir = tempDir('keyrite-fuzz-approvals-');
  const request = newRequest({ operation: 'export', target: keyId, parameters: { to: bob.recipient }, head: 'ab'.repeat(32) }, new Date(), 60_000);
  const approval = signApproval(request, publicOf(bob), bob.signing, new Date());
  const reals = [JSON.stringify(request, null, 2), JSON.stringify(approval, null, 2)];
  const file = fc.record({ kind: fc.nat(1), bytes: fc.oneof(untrustedText(reals).map((t) => Buffer.from(t, 'utf8')), untrustedBytes(reals.map((r) => Buffer.from(r)))) });
  await fc.assert(
    fc.asyncProperty(file, async ({ kind, bytes }) => {
      const path = join(dir, kind ? 'approval.json' : 'request.json');
      writeFileSync(path, bytes);
      const r = await attempt(kind ? 'readApprovalFile' : 'readRequest', () => (kind ? readApprovalFile(path) : readRequest(path)), clean());
      if ('value' in r) {
        // What a damaged file can still carry: its fields are of their types, and an approval names the request it carries.
        const v = r.value as unknown as Record<string, unknown>;
        const q = (kind ? v.request : v) as Record<string, unknown>;
        assert.ok(typeof q.operation === 'string' && typeof q.target === 'string' && /^[0-9a-f]{64}$/.test(String(q.head)));
        if (kind) assert.equal(v.digest, sha256Hex(canonical(q)));
      }
    }),
    { numRuns: fuzzRuns(300) },
  );
  rmSync(dir, { recursive: true, force: true });
});

test('signing and renewal requests: any request handed to a node is the real one or is refused cleanly, signed by its custodian or not', TIMEOUT, async () => {
  const session: SessionParams = { engine: 'ed25519', keyId, epoch: 1, participants: ['node-1', 'node-2'], t: 2, n: 3, ceremonyId: 'fuzz', rosterDigest: 'cd'.repeat(32) };
  const message = Buffer.from('a message to sign');
  const sign: SignRequest = { v: 1, keyId, epoch: 1, messageDigest: sha256Hex(message), signers: ['alice', 'bob'], sessionId: sessionIdOf(session) };
  const renew: RenewalRequest = { v: 1, op: 'refresh', keyId, epoch: 1, sessionId: sessionIdOf(session) };
  const reals = [signRequest('bob', bob.signing, sign), signRequest('bob', bob.signing, renew)] as unknown as Json[];
  const ctx = { node: 'node-2', record, session, share: bobShard.share, custodianKey: (name: string) => member(roster, name, 'custodian').signingKey };
  // bob signs whatever request the case ends up with: the checks past the signature run.
  const resigned = mutatedJson(reals).map((v) => {
    const q = (v as { request?: Json } | null)?.request;
    return q === undefined || typeof v !== 'object' || v === null || Array.isArray(v) ? v : ({ ...v, sig: signRequest('bob', bob.signing, q as never).sig } as Json);
  });
  await fc.assert(
    fc.asyncProperty(fc.oneof(anyJson, mutatedJson(reals), resigned), fc.boolean(), async (s, renewal) => {
      const r = await attempt('a node checks the request', () => (renewal ? checkRenewal(s as unknown as SignedRequest<RenewalRequest>, 'refresh', ctx) : checkRequest(s as unknown as SignedRequest, { ...ctx, message })), clean());
      if ('value' in r) assert.equal(canonical((s as { request: unknown }).request), canonical(renewal ? renew : sign), 'a node accepts only the request bob made');
    }),
    { numRuns: fuzzRuns(400) },
  );
});

test('regression: a script that is not JSON, or whose step rule is not an object, is a damaged file, not a SyntaxError or TypeError', async () => {
  for (const text of ['{', JSON.stringify({ ...JSON.parse(signJson), steps: { ...JSON.parse(signJson).steps, 'sign.x': null } })]) {
    writeFileSync(join(pkg, 'ceremonies', 'sign.json'), text);
    try {
      const m = (await import(`${scriptModule}?case=${imports++}`)) as typeof import('../../src/evidence/script.js');
      assert.throws(() => m.loadScript('sign'), (e: unknown) => e instanceof CopyError && e.code === 'DAMAGED_FILE');
    } finally {
      writeFileSync(join(pkg, 'ceremonies', 'sign.json'), signJson);
    }
  }
});

test('regression: an approval naming a digest that is not a string, and a signed request that is not one, are refused, not TypeErrors', async () => {
  const dir = tempDir('keyrite-fuzz-regression-');
  const request = newRequest({ operation: 'export', target: keyId, parameters: {}, head: 'ab'.repeat(32) }, new Date(), 60_000);
  writeFileSync(join(dir, 'a.json'), JSON.stringify({ ...signApproval(request, publicOf(bob), bob.signing, new Date()), digest: { toString: 1 } }));
  assert.throws(() => readApprovalFile(join(dir, 'a.json')), (e: unknown) => assertCleanError(e, 'approval', ['WRONG_REQUEST']) !== undefined);
  rmSync(dir, { recursive: true, force: true });
  const session: SessionParams = { engine: 'ed25519', keyId, epoch: 1, participants: ['node-1', 'node-2'], t: 2, n: 3, ceremonyId: 'fuzz', rosterDigest: 'cd'.repeat(32) };
  const ctx = { node: 'node-2', record, session, share: bobShard.share, custodianKey: (name: string) => member(roster, name, 'custodian').signingKey, message: Buffer.from('m') };
  const q = { v: 1, keyId, epoch: 1, messageDigest: sha256Hex(ctx.message), signers: [{ toString: 1 }, 'bob'], sessionId: sessionIdOf(session) };
  for (const s of [undefined, { request: {}, custodian: { toString: 1 }, sig: '' }, signRequest('bob', bob.signing, q as never)]) {
    assert.throws(() => checkRequest(s as never, ctx), (e: unknown) => assertCleanError(e, 'request', ['REQUEST_REFUSED']) !== undefined);
    assert.throws(() => checkRenewal(s as never, 'refresh', ctx), (e: unknown) => assertCleanError(e, 'request', ['REQUEST_REFUSED']) !== undefined);
  }
});

test('the damaged copies were put back', () => {
  for (const f of cacheFiles) assert.ok(readFileSync(f).equals(genuine.get(f)!));
  mkdirSync(pkg, { recursive: true });
  assert.equal(readFileSync(join(pkg, 'ceremonies', 'sign.json'), 'utf8'), signJson);
});
