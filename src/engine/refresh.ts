import { blame, malformed } from './blame.js';
import { decodePoints, decodeScalar, encodePoint, encodeScalar } from './codec.js';
import { commit, evaluate, evaluateCommitment, randomPolynomial, wipeScalars } from './poly.js';
import { buildShare, groupData, idScalar, publicPackageOf } from './share.js';
import type { GroupPoint, Suite } from './suite.js';
import type { RefreshOptions, Rounds, Share } from './types.js';

// Proactive refresh, as frost-core's refresh.rs: every holder deals a random polynomial of
// degree t−1 with constant term 0 and Feldman-commits to coefficients 1..t−1 only (committing
// to no constant term is what forces it to be zero). Adding everyone's sub-shares changes every
// share but not the secret, so the group key (and bip340's internal key) stays and old shares
// stop combining with new ones.

export function refreshRounds(suite: Suite, o: RefreshOptions): Rounds<Share> {
  const { share } = o;
  const { parties, threshold: t } = share;
  const me = share.party;
  const x = (p: string) => idScalar(parties, p);
  const poly = randomPolynomial(suite, suite.Fn.ZERO, t - 1, o.rng);
  const myCommitment = commit(suite, poly.slice(1));
  let commitments: Record<string, GroupPoint[]> = {};

  return {
    protocol: 'refresh',
    me,
    round1Senders: parties,
    round2Senders: parties,
    round2Receivers: parties,
    round2Direct: true,
    round1: () => ({ commitment: myCommitment.map(encodePoint) }),

    round2(round1) {
      commitments = Object.fromEntries(parties.map((p) => [p, decodeRefreshCommitment(suite, t, p, round1[p])]));
      const direct = parties.filter((p) => p !== me).map((p) => [p, { share: encodeScalar(suite, evaluate(suite, poly, x(p))) }]);
      return { direct: Object.fromEntries(direct) };
    },

    finish(round2) {
      const { Fn, Point } = suite;
      let delta = evaluate(suite, poly, x(me));
      for (const dealer of parties.filter((p) => p !== me)) {
        delta = Fn.add(delta, checkRefreshSubShare(suite, parties, me, dealer, commitments[dealer]!, round2[dealer]));
      }
      const old = groupData(suite, publicPackageOf(share));
      // Everyone's new verifying share: old one plus every dealer's committed value at its id.
      const verifyingShares = Object.fromEntries(
        parties.map((p) => [p, parties.reduce((acc, d) => acc.add(zeroConstantAt(suite, commitments[d]!, x(p))), old.verifyingShares[p]!)]),
      );
      const secret = Fn.add(decodeScalar(suite, share.secret, (why) => new Error(why)), delta);
      if (!Point.BASE.multiply(secret).equals(verifyingShares[me]!)) throw new Error('refresh: own new share does not match its verifying share');
      return buildShare(suite, { keyId: share.keyId, epoch: share.epoch + 1, groupKey: old.groupKey, internalKey: share.internalKey, verifyingShares, threshold: t, parties }, me, secret);
    },

    wipe: () => wipeScalars(poly),
  };
}

/** A dealer's round-1 broadcast: its commitment to coefficients 1..t−1. */
export function decodeRefreshCommitment(suite: Suite, t: number, dealer: string, payload: unknown): GroupPoint[] {
  return decodePoints(suite, (payload as { commitment?: unknown } | undefined)?.commitment, t - 1, () => malformed(dealer, 'refresh commitment'));
}

/** `dealer`'s sub-share to `me` (its round-2 body) against its commitment; also run on an accusation's evidence (accusation.ts). */
export function checkRefreshSubShare(suite: Suite, parties: readonly string[], me: string, dealer: string, commitment: GroupPoint[], body: unknown): bigint {
  const sub = decodeScalar(suite, (body as { share?: unknown } | undefined)?.share, () => malformed(dealer, 'refresh sub-share'));
  if (!suite.Point.BASE.multiply(sub).equals(zeroConstantAt(suite, commitment, idScalar(parties, me)))) {
    throw blame('PROTOCOL_INVALID_SHARE', dealer, `refresh sub-share from ${dealer} to ${me} fails the Feldman check against ${dealer}'s commitment`);
  }
  return sub;
}

// Σ_{k≥1} C_k·x^k for a commitment to coefficients 1..t−1 (constant term 0).
function zeroConstantAt(suite: Suite, commitment: GroupPoint[], x: bigint): GroupPoint {
  return evaluateCommitment([suite.Point.ZERO, ...commitment], x);
}
