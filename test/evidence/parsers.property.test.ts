import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { fromHex, hex } from '../../src/base/canonical.js';
import { KeyriteError } from '../../src/base/errors.js';
import { parseEnvelope, PAYLOAD_TYPE } from '../../src/base/dsse.js';
import { parseStatement } from '../../src/evidence/statement.js';
import { checkPublicIdentity, fingerprintOf } from '../../src/state/identity.js';
import { getEngine, type Share } from '../../src/engine/index.js';
import { newIdentity, parseSecret, serializeSecret } from '../../src/custody/identity.js';
import { GOLDEN } from '../../fixtures/golden.js';
import { readLines } from '../../fixtures/chain-tools.js';
import { identities, names, runDkg } from '../support/engine.js';
import { assertRefusal, attempt, fuzzRuns, mutatedJson, untrustedText, type Json } from '../support/fuzz.js';

// Property tests of the parsers that take untrusted input: transcript lines (parseEnvelope),
// their payloads (parseStatement), public identities from rosters and transcripts
// (checkPublicIdentity), shares and key packages handed to an engine (parseShare,
// parsePublicPackage), and identity files once decrypted (parseSecret). Whatever the input —
// random bytes, random JSON, or a real value with one field replaced, removed or one character
// changed — the parser either returns or refuses with an Error or KeyriteError that has a
// message: never a TypeError or another crash, never INTERNAL, and never slowly. Real values come
// from the golden fixture (lines and identities the product wrote) and from a real DKG.

const TIMEOUT = { timeout: 5 * 60_000 };

/** Calls `parse`; a refusal must be a clean one; returns the value when it parsed. */
async function tryParse<T>(what: string, parse: () => T | Promise<T>): Promise<{ value: T } | null> {
  const r = await attempt(what, parse);
  return 'value' in r ? r : null;
}

const lines = readLines(join(GOLDEN, 'transcripts', '0012-keygen.jsonl'));
const payloads = lines.map((l) => Buffer.from(JSON.parse(l).payload, 'base64').toString('utf8'));
const pubIdentities = readdirSync(join(GOLDEN, 'identities')).map((f) => JSON.parse(readFileSync(join(GOLDEN, 'identities', f), 'utf8')) as Json);

test('parseEnvelope: any line parses to a DSSE envelope or is refused cleanly', TIMEOUT, async () => {
  await fc.assert(
    fc.asyncProperty(untrustedText(lines), async (line) => {
      const r = await tryParse('parseEnvelope', () => parseEnvelope(line));
      if (!r) return;
      assert.equal(r.value.payloadType, PAYLOAD_TYPE);
      assert.equal(typeof r.value.payload, 'string');
      assert.ok(r.value.signatures.length > 0 && r.value.signatures.every((s) => typeof s.keyid === 'string' && typeof s.sig === 'string'));
    }),
    { numRuns: fuzzRuns(1000) },
  );
});

test('parseStatement: any payload parses to a keyrite step or is refused cleanly', TIMEOUT, async () => {
  const bytes = fc.oneof(fc.uint8Array(), untrustedText(payloads).map((t) => Buffer.from(t, 'utf8')));
  await fc.assert(
    fc.asyncProperty(bytes, async (payload) => {
      const r = await tryParse('parseStatement', () => parseStatement(Buffer.from(payload)));
      if (!r) return;
      assert.equal(typeof r.value.predicate.step, 'string');
      assert.ok(r.value.subject.length > 0);
    }),
    { numRuns: fuzzRuns(1000) },
  );
});

test('checkPublicIdentity: any value is a public identity whose fingerprint matches, or is refused cleanly', TIMEOUT, async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.jsonValue(), mutatedJson(pubIdentities)), async (value) => {
      const r = await tryParse('checkPublicIdentity', () => checkPublicIdentity(value, 'a public identity'));
      if (!r) return;
      assert.equal(r.value, value, 'an accepted identity is returned as given');
      assert.equal(r.value.fingerprint, fingerprintOf(r.value.name, r.value.role, r.value.recipient, r.value.signingKey));
    }),
    { numRuns: fuzzRuns(1000) },
  );
});

// One real key per engine, from a real DKG, as the shares and packages to damage.
const realShares: Record<string, Share[]> = {};
before(async () => {
  const parties = names(3);
  const ids = await identities(parties);
  for (const engine of ['ed25519', 'bip340']) realShares[engine] = Object.values(await runDkg(engine, parties, 2, ids));
});

/** The verifying share a secret makes, computed with noble (not with the engine). */
function verifyingShareOf(engine: string, secret: string): string {
  if (engine === 'ed25519') return hex(ed25519.Point.BASE.multiply(ed25519.Point.Fn.fromBytes(fromHex(secret, 's'))).toBytes());
  return hex(secp256k1.Point.BASE.multiply(secp256k1.Point.Fn.fromBytes(fromHex(secret, 's'))).toBytes());
}

for (const engine of ['ed25519', 'bip340']) {
  test(`${engine} parseShare and parsePublicPackage: any value is a consistent share or package, or is refused cleanly`, TIMEOUT, async () => {
    const reals = realShares[engine]! as unknown as Json[];
    const publics = reals.map((s) => {
      const { party: _p, secret: _s, ...pub } = s as Record<string, Json>;
      return pub as Json;
    });
    const e = getEngine(engine);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), mutatedJson(reals), mutatedJson(publics)), async (value) => {
        const share = await tryParse('parseShare', () => e.parseShare(value, 'a share'));
        if (share) assert.equal(share.value.verifyingShares[share.value.party], verifyingShareOf(engine, share.value.secret), 'a parsed share\'s secret makes its verifying share');
        const pkg = await tryParse('parsePublicPackage', () => e.parsePublicPackage(value, 'a key package'));
        if (pkg) assert.equal(pkg.value.engine, engine);
      }),
      { numRuns: fuzzRuns(300) },
    );
  });
}

test('parseSecret: any decrypted identity file parses to an identity or is refused cleanly', TIMEOUT, async () => {
  const real = [JSON.parse(Buffer.from(serializeSecret(await newIdentity('alice', 'custodian'))).toString('utf8')) as Json];
  const text = fc.oneof(untrustedText(real.map((r) => JSON.stringify(r))), fc.uint8Array().map((b) => Buffer.from(b).toString('latin1')));
  await fc.assert(
    fc.asyncProperty(text, async (t) => {
      const r = await tryParse('parseSecret', () => parseSecret(Buffer.from(t, 'utf8'), 'an identity file'));
      if (r) assert.match(r.value.recipient, /^age1[0-9a-z]+$/);
    }),
    { numRuns: fuzzRuns(300) },
  );
});

test('the refusal check itself: a TypeError, an INTERNAL or an error without a message is not a clean refusal', () => {
  assert.throws(() => assertRefusal(new TypeError('cannot read properties of undefined'), 'x'), /crashed with TypeError/);
  assert.throws(() => assertRefusal(new KeyriteError('INTERNAL', 'unexpected'), 'x'), /INTERNAL/);
  assert.throws(() => assertRefusal(new Error(''), 'x'), /without a message/);
  assert.throws(() => assertRefusal('a string', 'x'), /crashed/);
  assertRefusal(new KeyriteError('DAMAGED_FILE', 'the file is damaged'), 'x');
  assertRefusal(new Error('not valid JSON'), 'x');
});
