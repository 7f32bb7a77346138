import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { envelopeDigest, openDirect, publicPackageOf, repairParty, sealDirect, signEnvelope, type Envelope, type PublicPackage, type SessionParams, type Share } from '../../src/engine/index.js';
import { decodeScalar, encodeScalar } from '../../src/engine/codec.js';
import { repairDeltas, repairShare, repairSum } from '../../src/engine/repair.js';
import { SUITES, type Suite } from '../../src/engine/suite.js';
import { SHARED } from '../support/cli.js';
import { runParties, type Transport } from '../support/engine-run.js';
import { expectBlame, identities, independentVerify, msg32, names, runDkg, runSign, type Ids } from '../support/engine.js';
import { fuzzRuns } from '../support/fuzz.js';

// Share repair (src/engine/repair.ts): the reference implementation's repair-share.json vectors
// (ZcashFoundation/frost@0966bd1, ../shared/vectors/SOURCES.md), read in place, step by step; a
// property over random keys that t helpers rebuild exactly the lost share, which then signs; and
// every refusal, naming the party.

const VECTORS = join(SHARED, 'vectors', 'zcash-frost');
const skip = existsSync(VECTORS) ? false : `the repair vectors are not here: ${VECTORS} (../shared/vectors/ beside the repository) is absent`;
const ENGINES = ['ed25519', 'bip340'] as const;
const VECTOR_DIR = { ed25519: 'frost-ed25519', bip340: 'frost-secp256k1-tr' } as const;

type RepairVector = {
  scalar_generation: { random_scalar_1: string; random_scalar_2: string; random_scalar_3: string; random_scalar_sum: string };
  sigma_generation: { sigma_1: string; sigma_2: string; sigma_3: string; sigma_4: string; sigma_sum: string };
};

const readVector = (engine: (typeof ENGINES)[number]): RepairVector => JSON.parse(readFileSync(join(VECTORS, VECTOR_DIR[engine], 'repair-share.json'), 'utf8')) as RepairVector;
const scalar = (suite: Suite, h: string): bigint => decodeScalar(suite, h, (why) => new Error(`vector scalar ${h}: ${why}`));
const secretOf = (suite: Suite, s: Share): bigint => scalar(suite, s.secret);

/** λ_i(x_p) over the helpers' identifiers, written out here so the engine's ζ is not its own judge. */
function lagrangeAt(suite: Suite, share: Share, helpers: string[], participant: string): bigint {
  const { Fn } = suite;
  const x = (p: string) => BigInt(share.parties.indexOf(p) + 1);
  const xi = x(share.party);
  return helpers.filter((h) => h !== share.party).reduce((l, h) => Fn.mul(l, Fn.div(Fn.sub(x(participant), x(h)), Fn.sub(xi, x(h)))), Fn.ONE);
}

function repairSession(key: PublicPackage, helpers: string[], participant: string, ids: Ids, change: Partial<SessionParams> = {}): SessionParams {
  return {
    engine: key.engine, keyId: key.keyId, epoch: key.epoch, participants: [participant], t: key.threshold, n: key.parties.length,
    ceremonyId: 'c-repair', rosterDigest: ids.rosterDigest, dealers: helpers, ...change,
  };
}

function repairParties(shares: Record<string, Share>, helpers: string[], participant: string, ids: Ids, change: Partial<SessionParams> = {}) {
  const key = publicPackageOf(shares[helpers[0]!]!);
  const session = repairSession(key, helpers, participant, ids, change);
  return [...new Set([...helpers, participant])].map((m) => repairParty({ session, keys: ids.keys[m]!, roster: ids.roster }, { key, share: helpers.includes(m) ? shares[m] : undefined }));
}

async function runRepair(shares: Record<string, Share>, helpers: string[], participant: string, ids: Ids, transport?: Transport): Promise<Share> {
  const out = await runParties(repairParties(shares, helpers, participant, ids), transport);
  for (const h of helpers) assert.equal(out[h], null, `helper ${h} gets nothing from a repair`);
  return out[participant] ?? assert.fail(`${participant} got no share`);
}

for (const engine of ENGINES) {
  const suite = SUITES[engine]!;

  test(`${engine} repair vectors (${VECTOR_DIR[engine]}/repair-share.json): step 2 and step 3 sums`, { skip }, () => {
    const v = readVector(engine);
    const g = v.scalar_generation;
    const sigma = repairSum(suite, [g.random_scalar_1, g.random_scalar_2, g.random_scalar_3].map((h) => scalar(suite, h)));
    assert.equal(encodeScalar(suite, sigma), g.random_scalar_sum, 'step 2: σ is the sum of the deltas');
    const s = v.sigma_generation;
    const share = repairSum(suite, [s.sigma_1, s.sigma_2, s.sigma_3, s.sigma_4].map((h) => scalar(suite, h)));
    assert.equal(encodeScalar(suite, share), s.sigma_sum, 'step 3: the share is the sum of the σs');
  });

  // frost-core's step-1 check, with the vector's random scalars as the helpers' random values:
  // signer 2 lost its share of a 3-of-5 key; signers 1, 4 and 5 help.
  test(`${engine} repair steps 1–3 with the vector's randomness: deltas, σs and the rebuilt share of a 3-of-5 key`, { skip }, async () => {
    const g = readVector(engine).scalar_generation;
    const random = [g.random_scalar_1, g.random_scalar_2].map((h) => scalar(suite, h));
    const parties = names(5);
    const shares = await runDkg(engine, parties, 3, await identities(parties));
    const key = publicPackageOf(shares['node-1']!);
    const helpers = ['node-1', 'node-4', 'node-5'];
    const participant = 'node-2';
    const { Fn } = suite;
    const deltas = Object.fromEntries(helpers.map((h) => [h, repairDeltas(suite, shares[h]!, helpers, participant, random)]));
    for (const h of helpers) {
      assert.deepEqual(deltas[h]!.slice(0, 2), random, `${h}'s first deltas are the vector's random values`);
      const expected = Fn.mul(lagrangeAt(suite, shares[h]!, helpers, participant), secretOf(suite, shares[h]!));
      assert.equal(repairSum(suite, deltas[h]!), expected, `${h}'s deltas add up to λ(x₂)·s`);
    }
    const sigmas = Object.fromEntries(helpers.map((j, k) => [j, repairSum(suite, helpers.map((i) => deltas[i]![k]!))]));
    for (const [k, j] of helpers.entries()) {
      assert.equal(sigmas[j], helpers.reduce((acc, i) => Fn.add(acc, deltas[i]![k]!), Fn.ZERO), `σ of ${j}`);
    }
    const repaired = repairShare(suite, key, participant, sigmas);
    assert.deepEqual(repaired, shares[participant], 'the rebuilt share is the lost one, same package and epoch');
    const wrong = { ...sigmas, 'node-4': Fn.add(sigmas['node-4']!, Fn.ONE) };
    assert.throws(() => repairShare(suite, key, participant, wrong), (e: { code?: string; message: string }) =>
      e.code === 'SHARE_INVALID' && helpers.every((h) => e.message.includes(h)) && e.message.includes(participant));
  });
}

// Any lost share of a random t-of-n key, t random helpers among the others: the rebuilt share is
// exactly the lost one (so the group key, the epoch and every verifying share stay), the helpers'
// shares are untouched, and it signs with t−1 others (checked by OpenSSL or noble's BIP-340).
const repairShape = fc
  .record({ engine: fc.constantFrom(...ENGINES), n: fc.integer({ min: 3, max: 4 }) })
  .chain(({ engine, n }) =>
    fc.integer({ min: 2, max: n - 1 }).chain((t) =>
      fc.constantFrom(...names(n)).chain((lost) => {
        const others = names(n).filter((p) => p !== lost);
        return fc.record({
          engine: fc.constant(engine), t: fc.constant(t), parties: fc.constant(names(n)), lost: fc.constant(lost),
          helpers: fc.shuffledSubarray(others, { minLength: t, maxLength: t }),
          cosigners: fc.shuffledSubarray(others, { minLength: t - 1, maxLength: t - 1 }),
        });
      }),
    ),
  );

test('repair: t helpers rebuild any lost share exactly, nothing else changes, and it signs with t−1 others', { timeout: 10 * 60_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(repairShape, async ({ engine, t, parties, lost, helpers, cosigners }) => {
      const ids = await identities(parties);
      const shares = await runDkg(engine, parties, t, ids);
      const before = structuredClone(shares);
      const { [lost]: lostShare, ...kept } = shares;
      const repaired = await runRepair(kept, helpers, lost, ids);
      assert.deepEqual(repaired, lostShare, 'the rebuilt share is the lost one');
      assert.deepEqual(kept, Object.fromEntries(Object.entries(before).filter(([p]) => p !== lost)), 'no other share changed');
      const message = msg32(`repaired ${lost}`);
      const sig = await runSign([repaired, ...cosigners.map((c) => shares[c]!)], message, ids);
      assert.ok(independentVerify(engine, repaired.groupPublicKey, message, sig), 'the repaired share signs under the same group key');
    }),
    { numRuns: fuzzRuns(3) },
  );
});

// Refusals. A 2-of-4 ed25519 and bip340 key; node-2 lost its share.
async function key2of4(engine: string) {
  const parties = names(4);
  const ids = await identities([...parties, 'mallory']);
  const shares = await runDkg(engine, parties, 2, ids);
  return { ids, shares };
}

const refusal = (code: string, party?: string, ...words: string[]) => (e: { code?: string; party?: string; message: string }) => {
  assert.equal(e.code, code, e.message);
  if (party) assert.equal(e.party, party);
  for (const w of [party, ...words]) if (w) assert.ok(e.message.includes(w), `"${e.message}" names ${w}`);
  return true;
};

const resign = (ids: Ids, env: Envelope, change: Partial<Envelope>): Envelope => {
  const { sig: _sig, ...unsigned } = { ...env, ...change };
  return signEnvelope(ids.keys[env.from]!.signingKey, unsigned);
};

// A malicious helper: the sealed payload replaced, signed and sealed with the helper's own keys.
async function reseal(ids: Ids, env: Envelope, body: (old: Record<string, string>) => unknown): Promise<Envelope> {
  const statement = await openDirect(ids.keys[env.to]!.ageIdentity, env, ids.roster[env.from]!.signingPublicKey);
  const { body: old, sig: _s, ...header } = statement;
  const payload = await sealDirect(ids.keys[env.from]!.signingKey, header, body(old as Record<string, string>), ids.roster[env.to]!.ageRecipient);
  return resign(ids, env, { payload });
}

// A malicious helper that sends every member the same round-1 broadcast `payload` (and echoes
// it as its own), so the echo agrees and the payload itself is judged.
function broadcasts(ids: Ids, from: string, payload: unknown): Transport {
  let sent: Envelope | undefined;
  return (env) => {
    if (env.from !== from) return [env];
    if (env.round === 'repair.1' && env.to === '*') return [(sent ??= resign(ids, env, { payload }))];
    if (env.round !== 'repair.echo') return [env];
    const echoed = (env.payload as { round1: Record<string, string> }).round1;
    return [resign(ids, env, { payload: { round1: { ...echoed, [from]: envelopeDigest(sent!) } } })];
  };
}

const bump = (suite: Suite, h: string): string => encodeScalar(suite, suite.Fn.add(decodeScalar(suite, h, (w) => new Error(w)), suite.Fn.ONE));

for (const engine of ENGINES) {
  const suite = SUITES[engine]!;
  const helpers = ['node-1', 'node-3'];

  test(`${engine} repair: impossible helper sets are refused before any round, naming the party`, async () => {
    const { ids, shares } = await key2of4(engine);
    const setup = (hs: string[], participant = 'node-2', change: Partial<SessionParams> = {}) => () => repairParties(shares, hs, participant, ids, change);
    assert.throws(setup(['node-1']), refusal('BELOW_THRESHOLD', undefined, 'node-1', '2-of-4'));
    assert.throws(setup(['node-1', 'mallory']), refusal('NOT_A_HOLDER', 'mallory'));
    assert.throws(setup(['node-1', 'node-2']), refusal('BAD_SIGNER_SET', 'node-2'));
    assert.throws(setup(['node-1', 'node-3', 'node-1']), refusal('BAD_SIGNER_SET', 'node-1'));
    assert.throws(setup(helpers, 'mallory'), refusal('NOT_A_HOLDER', 'mallory'));
    assert.throws(setup(helpers, 'node-2', { epoch: 2 }), refusal('SHARE_WRONG_EPOCH', undefined, 'epoch 2'));
    assert.throws(setup(helpers, 'node-2', { participants: ['node-2', 'node-4'] }), refusal('SESSION_MISMATCH'));
    assert.throws(setup(helpers, 'node-2', { engine: 'ecdsa' }), refusal('UNKNOWN_ENGINE', undefined, 'ecdsa', 'reshare'));
    const key = publicPackageOf(shares['node-1']!);
    const session = repairSession(key, helpers, 'node-2', ids);
    assert.throws(() => repairParty({ session, keys: ids.keys['node-3']!, roster: ids.roster }, { key }), refusal('SHARE_INVALID', 'node-3'));
    assert.throws(() => repairParty({ session, keys: ids.keys['node-3']!, roster: ids.roster }, { key, share: shares['node-1'] }), refusal('SESSION_MISMATCH', undefined, 'node-1', 'node-3'));
  });

  test(`${engine} repair: a message for another session or epoch, or malformed, is refused naming its sender`, async () => {
    const { ids, shares } = await key2of4(engine);
    const run = (transport: Transport) => runParties(repairParties(shares, helpers, 'node-2', ids), transport);
    await expectBlame(() => run((env, to) => (env.from === 'node-3' && to === 'node-2' && env.round === 'repair.1' ? [resign(ids, env, { sessionId: '00'.repeat(32) })] : [env])), 'PROTOCOL_WRONG_SESSION', 'node-3');
    await expectBlame(() => run((env, to) => (env.from === 'node-1' && to === 'node-3' && env.round === 'repair.echo' ? [resign(ids, env, { epoch: 2 })] : [env])), 'PROTOCOL_WRONG_EPOCH', 'node-1');
    await expectBlame(() => run(broadcasts(ids, 'node-3', { commitment: ['zz'] })), 'PROTOCOL_MALFORMED', 'node-3');
    await expectBlame(() => run(async (env) => (env.from === 'node-1' && env.round === 'repair.2' ? [await reseal(ids, env, () => ({ sigma: 'not a scalar' }))] : [env])), 'PROTOCOL_MALFORMED', 'node-1');
  });

  test(`${engine} repair: a helper's wrong commitment, delta or σ is refused naming that helper; nobody keeps a share`, async () => {
    const { ids, shares } = await key2of4(engine);
    const run = (transport: Transport) => runParties(repairParties(shares, helpers, 'node-2', ids), transport);
    // node-3 commits to deltas that do not add up to ζ·(its verifying share): the key's shares of node-1 and node-4.
    const otherPoints = [shares['node-1']!.verifyingShares['node-1']!, shares['node-1']!.verifyingShares['node-4']!];
    await expectBlame(() => run(broadcasts(ids, 'node-3', { commitment: otherPoints })), 'PROTOCOL_INVALID_COMMITMENT', 'node-3');
    const wrongDelta: Transport = async (env) => (env.from === 'node-1' && env.round === 'repair.1' && env.to === 'node-3' ? [await reseal(ids, env, (b) => ({ delta: bump(suite, b.delta!) }))] : [env]);
    await expectBlame(() => run(wrongDelta), 'PROTOCOL_INVALID_SHARE', 'node-1');
    const err = await run(wrongDelta).catch((e: { details: { accusation?: { evidence: { share?: { from?: string } } } } }) => e);
    assert.equal((err as { details: { accusation?: { evidence: { share?: { from?: string } } } } }).details.accusation?.evidence.share?.from, 'node-1', "node-1's signed delta is the evidence");
    const parties = repairParties(shares, helpers, 'node-2', ids);
    const wrongSigma: Transport = async (env) => (env.from === 'node-3' && env.round === 'repair.2' ? [await reseal(ids, env, (b) => ({ sigma: bump(suite, b.sigma!) }))] : [env]);
    await expectBlame(() => runParties(parties, wrongSigma), 'PROTOCOL_INVALID_SHARE', 'node-3');
    // The helpers were done before node-2 refused, and hold nothing from a repair; node-2 has no result.
    for (const p of parties.filter((x) => x.name !== 'node-2')) assert.equal(p.result(), null);
    assert.throws(() => parties.find((x) => x.name === 'node-2')!.result(), refusal('PROTOCOL_NOT_DONE', undefined, 'node-2'));
  });
}
