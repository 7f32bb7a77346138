import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { canonical, digestOf, sha256Hex } from '../../src/base/canonical.js';
import { decryptWith, encryptTo, encryptWithPassphrase, newAgeIdentity } from '../../src/base/age.js';
import { signObject } from '../../src/base/ed25519.js';
import { body, envelopeBytes, openShare, splitAgeKey, verifyEnvelope, type GuardianSet, type ShareEnvelope } from '../../src/custody/guardian-share.js';
import { lockIdentity, newIdentity, publicOf, unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { openReleased, releaseShare, releaseStatementOf, type ReleasedShare } from '../../src/custody/release.js';
import { openSealedShare, sealShare } from '../../src/custody/sealed.js';
import { checkShardFor, openShard, type ShardPayload } from '../../src/custody/shard.js';
import type { KeyRecord } from '../../src/state/key-record.js';
import { checkRelease, type RecoverySession } from '../../src/state/recovery.js';
import type { Roster } from '../../src/state/roster.js';
import { GOLDEN, PEOPLE } from '../../fixtures/golden.js';
import { anyJson, assertCleanError, attempt, fuzzRuns, mutatedJson, untrustedBytes, type Json } from '../support/fuzz.js';

// Property tests of the custody files a person hands to keyrite (docs/ARCHITECTURE.md §6):
// identity files, guardian share envelopes, released shares, shards and sealed shares. Each is
// fed damaged: its bytes (the age container), and its plaintext or JSON with one node replaced
// or removed — both as an outsider would (the signature no longer holds) and as the signer
// itself would (re-signed, so the checks past the signature are reached). Whatever the input,
// the file opens to exactly the real value, or is refused with a KeyriteError of the errors
// table: never a TypeError, an INTERNAL or a hang. Real files come from the golden fixture
// (bob's identity and shard) and from guardian sets made here.

const TIMEOUT = { timeout: 5 * 60_000 };
// A damaged scrypt stanza may name any work factor up to age.ts's limit (22); one at 20 or more
// takes seconds, not a hang, so the unlock bound is wider than the others.
const UNLOCK_SLOW_MS = 60_000;

const clean = (codes?: readonly string[]) => (e: unknown, what: string) => assertCleanError(e, what, codes);
const json = (b: Uint8Array): Json => JSON.parse(Buffer.from(b).toString('utf8')) as Json;
const pass = (name: string): string => readFileSync(join(PEOPLE, `${name}.pass`), 'utf8').trim();

// bob's real identity file and shard, and the key record they belong to.
const bobFile = readFileSync(join(GOLDEN, 'holdings', 'bob', 'bob.identity.age'));
const bobShardFile = readFileSync(join(GOLDEN, 'holdings', 'bob', 'bob.kb5a3d5c8a31343e2.e1.shard.age'));
const record = JSON.parse(readFileSync(join(GOLDEN, 'keys', 'kb5a3d5c8a31343e2.json'), 'utf8')) as KeyRecord;
const bobPub = JSON.parse(readFileSync(join(GOLDEN, 'identities', 'bob.pub.json'), 'utf8'));
let bob: Identity;
let bobShard: ShardPayload;

// A custodian's age key split 2-of-3, one guardian's release to a recovery session.
let custodian: Identity;
let guardians: Identity[];
let set: GuardianSet;
let envelopes: ShareEnvelope[];
let oneOff: Identity;
let session: RecoverySession;
let roster: Roster;
let release: ReleasedShare;

before(async () => {
  bob = await unlockIdentity(bobFile, pass('bob'), 'bob', bobPub);
  bobShard = await openShard(bobShardFile, bob.ageIdentity, 'bob\'s shard');
  custodian = await newIdentity('alice', 'custodian');
  guardians = await Promise.all(['g-1', 'g-2', 'g-3'].map((n) => newIdentity(n, 'guardian')));
  ({ set, envelopes } = await splitAgeKey(custodian, guardians.map(publicOf), 2));
  oneOff = await newIdentity('alice', 'custodian');
  session = { session: '0123456789abcdef', custodian: 'alice', setId: set.setId, recipient: oneOff.recipient, fingerprint: publicOf(oneOff).fingerprint, ceremony: '0002-recover-start', status: 'open' };
  roster = { v: 1, version: 1, policy: { approvals: 2 } as Roster['policy'], members: [publicOf(custodian), ...guardians.map(publicOf)], nodes: [] };
  release = await releaseShare(envelopes[0]!, guardians[0]!, session.session, oneOff.recipient, 'g-1\'s share');
});

test('identity file: any bytes, and any passphrase, unlock to bob\'s identity or are refused cleanly', TIMEOUT, async () => {
  const passphrase = fc.oneof({ weight: 4, arbitrary: fc.constant(pass('bob')) }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) });
  await fc.assert(
    fc.asyncProperty(untrustedBytes([bobFile]), passphrase, async (bytes, p) => {
      const r = await attempt('unlockIdentity', () => unlockIdentity(bytes, p, 'bob\'s identity file', bobPub), clean(['DAMAGED_FILE', 'WRONG_PASSPHRASE', 'IDENTITY_MISMATCH']), UNLOCK_SLOW_MS);
      if ('value' in r) assert.deepEqual(publicOf(r.value), bobPub, 'an unlocked file is bob\'s identity, nothing else');
    }),
    { numRuns: fuzzRuns(150) },
  );
});

test('identity file: a passphrase file holding damaged plaintext is refused cleanly', TIMEOUT, async () => {
  const real = json(Buffer.from(JSON.stringify({ v: 1, name: bob.name, role: bob.role, age: bob.ageIdentity, ed25519: Buffer.from(bob.signing.seed).toString('hex') })));
  await fc.assert(
    fc.asyncProperty(fc.oneof(anyJson, mutatedJson([real])), async (plain) => {
      const file = await encryptWithPassphrase(Buffer.from(JSON.stringify(plain) ?? '', 'utf8'), 'pw', 1);
      const r = await attempt('unlockIdentity', () => unlockIdentity(file, 'pw', 'an identity file', bobPub), clean(['DAMAGED_FILE', 'IDENTITY_MISMATCH']));
      if ('value' in r) assert.equal(r.value.signing.publicKey, bobPub.signingKey);
    }),
    { numRuns: fuzzRuns(150) },
  );
});

/** What `guardian check` and a drill do with a share file: check it against the set, open it with the guardian's identity. */
async function openEnvelope(e: unknown, guardian: Identity): Promise<Uint8Array> {
  verifyEnvelope(e as ShareEnvelope, set, 'the share file');
  return openShare(e as ShareEnvelope, guardian, 'the share file');
}

test('guardian share envelope: any file, as an outsider or as the custodian who signs it, opens to the real share or is refused cleanly', TIMEOUT, async () => {
  const reals = envelopes as unknown as Json[];
  const realShare = await openEnvelope(envelopes[0], guardians[0]!);
  const file = fc.oneof(anyJson, mutatedJson(reals), untrustedBytes([envelopeBytes(envelopes[0]!)]).map((b) => {
    try {
      return JSON.parse(b.toString('utf8')) as Json;
    } catch {
      return null;
    }
  }));
  const signed = mutatedJson(reals).map((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? ({ ...body(v as unknown as ShareEnvelope), sig: signObject(custodian.signing, body(v as unknown as ShareEnvelope)) } as unknown as Json) : v));
  await fc.assert(
    fc.asyncProperty(fc.oneof(file, signed), async (e) => {
      const r = await attempt('guardian share', () => openEnvelope(e, guardians[0]!), clean());
      if ('value' in r) assert.deepEqual(r.value, realShare, 'an opened share is g-1\'s real share');
    }),
    { numRuns: fuzzRuns(200) },
  );
});

/** What `recover custodian` does with a release file: its statement against the session, then the share inside. */
async function openRelease(file: unknown): Promise<Uint8Array> {
  const statement = checkRelease(releaseStatementOf(file, 'the release'), 'g-1', session, { setId: set.setId, k: set.k, guardians: set.guardians.map((g) => g.name) }, roster, 'the release');
  return openReleased({ ...(file as ReleasedShare), statement }, oneOff, set, 'the release');
}

test('released share: any file, as an outsider or as the guardian who signs it, opens to the real share or is refused cleanly', TIMEOUT, async () => {
  const realShare = await openRelease(release);
  const real = release as unknown as Json;
  // The guardian signs whatever statement the file ends up with: the checks past the signature run.
  const resigned = (v: Json | undefined): Json | undefined => {
    const st = (v as { statement?: Record<string, Json> } | null)?.statement;
    if (typeof st !== 'object' || st === null || Array.isArray(st)) return v;
    const { sig: _sig, ...rest } = st;
    return { ...(v as Record<string, Json>), statement: { ...rest, sig: signObject(guardians[0]!.signing, rest) } };
  };
  // A release whose envelope or ciphertext the guardian replaced, with a statement naming them.
  const consistent = mutatedJson([real]).map((v) => {
    const x = v as { envelope?: Json; share?: Json; statement?: Record<string, Json> } | null;
    if (typeof x?.statement !== 'object' || x.statement === null) return v;
    const named = { ...x, statement: { ...x.statement, envelope: x.envelope === undefined ? null : digestOf(x.envelope), share: typeof x.share === 'string' ? sha256Hex(x.share) : null } };
    return resigned(named as unknown as Json);
  });
  await fc.assert(
    fc.asyncProperty(fc.oneof(anyJson, mutatedJson([real]), mutatedJson([real]).map(resigned), consistent), async (file) => {
      const r = await attempt('release', () => openRelease(file), clean());
      if ('value' in r) assert.deepEqual(r.value, realShare, 'an opened release is g-1\'s real share');
    }),
    { numRuns: fuzzRuns(200) },
  );
});

/** What the kernel does with a shard file (src/ceremony/kernel/shards.ts): open it with the custodian's identity, check it against the key record. */
async function openBobShard(bytes: Uint8Array): Promise<ShardPayload> {
  const p = await openShard(bytes, bob.ageIdentity, 'bob\'s shard');
  checkShardFor(record, p, 'bob', 'bob\'s shard');
  return p;
}

test('shard: any bytes, and any plaintext sealed to its custodian, open to bob\'s share of the key or are refused cleanly', TIMEOUT, async () => {
  const plain = json(await decryptWith(bob.ageIdentity, bobShardFile, 'bob\'s shard'));
  const sealedToBob = fc.oneof(anyJson, mutatedJson([plain])).map((v) => Buffer.from(JSON.stringify(v) ?? '', 'utf8'));
  const input = fc.oneof(
    untrustedBytes([bobShardFile]).map((b) => ({ bytes: b, seal: false })),
    sealedToBob.map((b) => ({ bytes: b, seal: true })),
  );
  await fc.assert(
    fc.asyncProperty(input, async ({ bytes, seal }) => {
      const file = seal ? await encryptTo([bob.recipient], bytes) : bytes;
      const r = await attempt('shard', () => openBobShard(file), clean());
      if ('value' in r) {
        assert.equal(r.value.share.secret, bobShard.share.secret, 'an accepted shard holds bob\'s share');
        assert.equal(canonical(r.value.share.verifyingShares), canonical(bobShard.share.verifyingShares));
      }
    }),
    { numRuns: fuzzRuns(200) },
  );
});

test('sealed share: any bytes, and any plaintext sealed to the node, open to the share handed in or are refused cleanly', TIMEOUT, async () => {
  const node = await newAgeIdentity();
  const real = await sealShare(node.recipient, bobShard.share);
  const plain = json(await decryptWith(node.identity, real, 'the sealed share'));
  const input = fc.oneof(
    untrustedBytes([real]).map((b) => ({ bytes: b, seal: false })),
    fc.oneof(anyJson, mutatedJson([plain])).map((v) => ({ bytes: Buffer.from(JSON.stringify(v) ?? '', 'utf8'), seal: true })),
  );
  await fc.assert(
    fc.asyncProperty(input, fc.constantFrom(undefined, 'ed25519'), async ({ bytes, seal }, engine) => {
      const file = seal ? await encryptTo([node.recipient], bytes) : bytes;
      const r = await attempt('sealed share', () => openSealedShare(node.identity, file, 'the share handed in', engine), clean());
      if ('value' in r) assert.equal(r.value.secret, bobShard.share.secret, 'an opened share is the one sealed');
    }),
    { numRuns: fuzzRuns(200) },
  );
});

test('regression: an envelope the custodian signed without its ciphertext, or with a custodian that is not a name, is a damaged file, not a TypeError', async () => {
  const bad = [{ share: undefined }, { custodian: { toString: 1 } }, { index: '1' }];
  for (const change of bad) {
    const b = { ...body(envelopes[0]!), ...change } as Record<string, unknown>;
    const e = { ...b, sig: signObject(custodian.signing, b) };
    await assert.rejects(openEnvelope(e, guardians[0]!), (err: unknown) => assertCleanError(err, 'envelope', ['DAMAGED_FILE']) !== undefined);
  }
});
