import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { fromHex, hex } from '../../src/base/canonical.js';
import { getEngine, publicPackageOf, type Share } from '../../src/engine/index.js';
import { identities, names, runDkg, runRefresh, runReshare } from '../support/engine.js';
import { fuzzRuns } from '../support/fuzz.js';

// Property tests of the share algebra (docs/ARCHITECTURE.md §3) over random t-of-n, through full authenticated
// protocol runs (test/support/engine.ts): any t shares of a DKG combine to the group key and t−1
// never do; a refresh keeps the group key and changes every share; a reshare to a random t'/n'
// keeps the group key; old and new shares never combine. The group secret is also rebuilt here
// by plain Lagrange interpolation and checked against the group key with noble directly, so the
// engine's own combine is not the only judge. A protocol run takes a fraction of a second, so
// the default run counts are small; KEYRITE_FUZZ_RUNS raises them.

const ENGINES = ['ed25519', 'bip340'] as const;
type EngineId = (typeof ENGINES)[number];
const MAX_N = 4;
const NEW = names(MAX_N, 'new'); // holders a reshare may add
const TIMEOUT = { timeout: 10 * 60_000 }; // a hang fails the test instead of stalling the run

const Fn = { ed25519: ed25519.Point.Fn, bip340: secp256k1.Point.Fn };

/** The group public key a secret scalar makes, computed with noble (bip340: the x-only key). */
function publicKeyOf(engine: EngineId, scalar: bigint): string {
  if (engine === 'ed25519') return hex(ed25519.Point.BASE.multiply(scalar).toBytes());
  return hex(secp256k1.Point.BASE.multiply(scalar).toBytes(true).subarray(1));
}

/** Σ λᵢ·sᵢ at 0 over the shares' own identifiers (1-based position in their `parties`). */
function interpolate(engine: EngineId, shares: Share[]): bigint {
  const F = Fn[engine];
  const xs = shares.map((s) => BigInt(s.parties.indexOf(s.party) + 1));
  return shares.reduce((acc, s, i) => {
    const lambda = xs.reduce((l, xj, j) => (j === i ? l : F.mul(l, F.div(xj, F.sub(xj, xs[i]!)))), F.ONE);
    return F.add(acc, F.mul(lambda, F.fromBytes(fromHex(s.secret, 'share secret'))));
  }, F.ZERO);
}

const scalarOf = (engine: EngineId, hexScalar: string): bigint => Fn[engine].fromBytes(fromHex(hexScalar, 'scalar'));
const pick = (shares: Record<string, Share | null>, who: string[]): Share[] =>
  who.map((p) => shares[p] ?? assert.fail(`${p} holds no share`));
const code = (c: string) => (e: { code?: string }) => e.code === c;

/** Subsets of t holders (`signers`, `others`), of t−1 (`short`), and a split point for a mixed set. */
const subsetsOf = (parties: string[], t: number) =>
  fc.record({
    signers: fc.shuffledSubarray(parties, { minLength: t, maxLength: t }),
    others: fc.shuffledSubarray(parties, { minLength: t, maxLength: t }),
    short: fc.shuffledSubarray(parties, { minLength: t - 1, maxLength: t - 1 }),
    oldCount: fc.integer({ min: 1, max: t - 1 }), // how many of a mixed set are old shares
  });

const keyShape = fc
  .record({ engine: fc.constantFrom(...ENGINES), n: fc.integer({ min: 2, max: MAX_N }) })
  .chain(({ engine, n }) => fc.integer({ min: 2, max: n }).chain((t) => fc.record({ engine: fc.constant(engine), t: fc.constant(t), parties: fc.constant(names(n)), pick: subsetsOf(names(n), t) })));

/** The group secret the engine combines from `shares`, checked against the group key independently. */
function groupSecret(engine: EngineId, shares: Share[]): bigint {
  const r = getEngine(engine).combine(shares);
  const scalar = scalarOf(engine, r.scalar);
  assert.equal(r.publicKey, shares[0]!.groupPublicKey);
  assert.equal(publicKeyOf(engine, scalar), shares[0]!.groupPublicKey, 'the combined scalar makes the group key');
  assert.equal(interpolate(engine, shares), scalar, 'plain interpolation agrees with the engine');
  return scalar;
}

test('DKG: any t of n shares combine to the group key; t−1 shares never do', TIMEOUT, async () => {
  await fc.assert(
    fc.asyncProperty(keyShape, async ({ engine, t, parties, pick: s }) => {
      const shares = await runDkg(engine, parties, t, await identities(parties));
      const group = shares[parties[0]!]!.groupPublicKey;
      for (const p of parties) assert.equal(shares[p]!.groupPublicKey, group, `${p} agrees on the group key`);
      const secret = groupSecret(engine, pick(shares, s.signers));
      assert.equal(groupSecret(engine, pick(shares, s.others)), secret, 'every t-subset rebuilds the same secret');
      assert.throws(() => getEngine(engine).combine(pick(shares, s.short)), code('COMBINE_TOO_FEW_SHARES'));
      assert.notEqual(publicKeyOf(engine, interpolate(engine, pick(shares, s.short))), group, 't−1 shares interpolate to something else');
    }),
    { numRuns: fuzzRuns(4) },
  );
});

test('refresh: the group key stays, every share changes, and old and new shares do not mix', TIMEOUT, async () => {
  await fc.assert(
    fc.asyncProperty(keyShape, async ({ engine, t, parties, pick: s }) => {
      const ids = await identities(parties);
      const old = await runDkg(engine, parties, t, ids);
      const fresh = await runRefresh(Object.values(old), ids);
      for (const p of parties) {
        const [a, b] = [old[p]!, fresh[p]!];
        assert.deepEqual([b.groupPublicKey, b.keyId, b.epoch, b.threshold, b.parties], [a.groupPublicKey, a.keyId, a.epoch + 1, a.threshold, a.parties]);
        assert.notEqual(b.secret, a.secret, `${p}'s share changed`);
        assert.notEqual(b.verifyingShares[p], a.verifyingShares[p], `${p}'s verifying share changed`);
      }
      const secret = groupSecret(engine, pick(old, s.others));
      assert.equal(groupSecret(engine, pick(fresh, s.signers)), secret);
      const mixed = [...pick(old, s.signers.slice(0, s.oldCount)), ...pick(fresh, s.signers.slice(s.oldCount))];
      assert.throws(() => getEngine(engine).combine(mixed), code('COMBINE_MIXED_SHARES'));
      // Not only refused by label: as raw numbers, old and new shares are not the group secret.
      assert.notEqual(interpolate(engine, mixed), secret, 'old and new shares interpolate to the group secret');
    }),
    { numRuns: fuzzRuns(3) },
  );
});

/** A key, the old holders who deal (at least t), and a new t'-of-n' among old and new names. */
const reshareShape = keyShape.chain((key) =>
  fc.integer({ min: 2, max: MAX_N }).chain((n2) =>
    fc.integer({ min: 2, max: n2 }).chain((t2) =>
      fc.shuffledSubarray([...key.parties, ...NEW], { minLength: n2, maxLength: n2 }).chain((holders) =>
        fc.record({
          key: fc.constant(key),
          dealers: fc.shuffledSubarray(key.parties, { minLength: key.t }),
          holders: fc.constant(holders),
          t2: fc.constant(t2),
          pick: subsetsOf(holders, t2),
        }),
      ),
    ),
  ),
);

test('reshare to a random t\'-of-n\': the group key stays, the new threshold holds, old and new shares do not mix', TIMEOUT, async () => {
  await fc.assert(
    fc.asyncProperty(reshareShape, async ({ key: { engine, t, parties }, dealers, holders, t2, pick: s }) => {
      const ids = await identities([...parties, ...NEW]);
      const old = await runDkg(engine, parties, t, ids);
      const pkg = publicPackageOf(old[parties[0]!]!);
      const out = await runReshare(pkg, pick(old, dealers), holders, t2, ids);
      for (const d of dealers.filter((d) => !holders.includes(d))) assert.equal(out[d], null, `${d} dealt but holds nothing new`);
      for (const h of holders) {
        const share = out[h] ?? assert.fail(`${h} got no share`);
        assert.deepEqual([share.groupPublicKey, share.keyId, share.epoch, share.threshold, share.parties], [pkg.groupPublicKey, pkg.keyId, pkg.epoch + 1, t2, holders]);
        if (old[h]) assert.notEqual(share.secret, old[h]!.secret, `${h}'s share changed`);
      }
      const secret = groupSecret(engine, Object.values(old).slice(0, t));
      assert.equal(groupSecret(engine, pick(out, s.signers)), secret);
      assert.throws(() => getEngine(engine).combine(pick(out, s.short)), code('COMBINE_TOO_FEW_SHARES'));
      // An old share in place of a new one. The two lists number their holders differently, so
      // raw interpolation means nothing here; the refresh property checks the raw numbers.
      assert.throws(() => getEngine(engine).combine([old[parties[0]!]!, ...pick(out, s.signers.slice(1))]), code('COMBINE_MIXED_SHARES'));
    }),
    { numRuns: fuzzRuns(3) },
  );
});
