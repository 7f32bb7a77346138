import { blame, inputError, malformed } from './blame.js';
import { decodePoints, decodeScalar, encodePoint, encodeScalar } from './codec.js';
import { commit, evaluate, evaluateCommitment, lagrangeAtZero, randomPolynomial, wipeScalars } from './poly.js';
import { buildShare, groupData, idScalar, samePackage, publicPackageOf } from './share.js';
import type { GroupPoint, Suite } from './suite.js';
import type { ReshareOptions, Rounds, Share } from './types.js';

// Reshare t-of-n → t'-of-n' (new threshold, new or replaced holders), same group key (and, for
// bip340, the same internal key).
// Each dealer i (an old holder) deals λᵢ·sᵢ, its Lagrange-weighted share within the dealer set,
// with a fresh polynomial of degree t'−1. Since Σ λᵢ·sᵢ is the group secret, the new holders'
// sums are shares of the same secret. A dealer's C₀ must equal λᵢ·(its old verifying share):
// that ties what it deals to the share it holds, so it cannot shift the key.

export function reshareRounds(suite: Suite, o: ReshareOptions): Rounds<Share> {
  const { me, old, dealers, holders, threshold: t2 } = o;
  checkSetup(o);
  const oldData = groupData(suite, old);
  const oldX = dealers.map((d) => idScalar(old.parties, d));
  const lambda = (d: string) => lagrangeAtZero(suite, oldX, idScalar(old.parties, d));
  const newX = (h: string) => idScalar(holders, h);
  const isDealer = dealers.includes(me);
  const poly = isDealer ? dealerPolynomial(suite, o, lambda(me)) : [];
  let commitments: Record<string, GroupPoint[]> = {};

  return {
    protocol: 'reshare',
    me,
    round1Senders: dealers,
    round2Senders: dealers,
    round2Receivers: holders,
    round2Direct: true,
    round1: () => (isDealer ? { commitment: commit(suite, poly).map(encodePoint) } : null),

    round2(round1) {
      commitments = Object.fromEntries(dealers.map((d) => [d, checkDealerCommitment(suite, o, d, round1[d])]));
      if (!isDealer) return null;
      return { direct: Object.fromEntries(holders.filter((h) => h !== me).map((h) => [h, { share: encodeScalar(suite, evaluate(suite, poly, newX(h))) }])) };
    },

    finish(round2) {
      if (!holders.includes(me)) return null;
      const { Fn, Point } = suite;
      let secret = Fn.ZERO;
      for (const d of dealers) {
        const sub = d === me ? evaluate(suite, poly, newX(me)) : checkReshareSubShare(suite, holders, me, d, commitments[d]!, round2[d]);
        secret = Fn.add(secret, sub);
      }
      // The new polynomial's commitment is the sum of the dealers'; its constant is the group key.
      const summed = commitments[dealers[0]!]!.map((_, k) => dealers.reduce((acc, d) => acc.add(commitments[d]![k]!), Point.ZERO));
      if (!summed[0]!.equals(oldData.groupKey)) throw new Error('reshare: dealt commitments do not add up to the group key');
      const verifyingShares = Object.fromEntries(holders.map((h) => [h, evaluateCommitment(summed, newX(h))]));
      return buildShare(suite, { keyId: old.keyId, epoch: old.epoch + 1, groupKey: oldData.groupKey, internalKey: old.internalKey, verifyingShares, threshold: t2, parties: holders }, me, secret);
    },

    wipe: () => wipeScalars(poly),
  };
}

function checkSetup(o: ReshareOptions): void {
  const { me, old, dealers, holders, threshold, share } = o;
  if (new Set(dealers).size !== dealers.length || dealers.some((d) => !old.parties.includes(d))) {
    throw inputError('BAD_DEALERS', `dealers must be distinct holders of key ${old.keyId}`);
  }
  if (dealers.length < old.threshold) {
    throw inputError('BELOW_THRESHOLD', `${dealers.length} dealers cannot reshare a ${old.threshold}-of-${old.parties.length} key`);
  }
  if (new Set(holders).size !== holders.length || holders.some((h) => typeof h !== 'string' || h === '')) {
    throw inputError('BAD_PARTIES', 'new holders must be distinct, non-empty names');
  }
  if (!Number.isSafeInteger(threshold) || threshold < 2 || threshold > holders.length) {
    throw inputError('BAD_THRESHOLD', `threshold ${threshold} must be between 2 and ${holders.length}`);
  }
  if (!dealers.includes(me) && !holders.includes(me)) throw inputError('NOT_A_HOLDER', `${me} is neither a dealer nor a new holder`);
  if (dealers.includes(me) && (!share || share.party !== me || !samePackage(publicPackageOf(share), old))) {
    throw inputError('SHARE_INVALID', `dealer ${me} needs its own share of key ${old.keyId} at epoch ${old.epoch}`);
  }
}

function dealerPolynomial(suite: Suite, o: ReshareOptions, lambda: bigint): bigint[] {
  const s = decodeScalar(suite, o.share!.secret, (why) => new Error(why));
  return randomPolynomial(suite, suite.Fn.mul(lambda, s), o.threshold - 1, o.rng);
}

/**
 * A dealer's round-1 broadcast: a commitment of t' points whose C₀ is λ·(its old verifying share)
 * within the dealer set. Also run on an accusation's evidence (accusation.ts).
 */
export function checkDealerCommitment(suite: Suite, o: Pick<ReshareOptions, 'old' | 'dealers' | 'threshold'>, dealer: string, payload: unknown): GroupPoint[] {
  const c = decodePoints(suite, (payload as { commitment?: unknown } | undefined)?.commitment, o.threshold, () => malformed(dealer, 'reshare commitment'));
  const oldX = o.dealers.map((d) => idScalar(o.old.parties, d));
  const lambda = lagrangeAtZero(suite, oldX, idScalar(o.old.parties, dealer));
  if (!c[0]!.equals(groupData(suite, o.old).verifyingShares[dealer]!.multiply(lambda))) {
    throw blame('PROTOCOL_INVALID_COMMITMENT', dealer, `reshare commitment from ${dealer} does not commit to λ·(its old share): C₀ ≠ λ·${dealer}'s verifying share`);
  }
  return c;
}

/** `dealer`'s sub-share to new holder `me` (its round-2 body) against its commitment; also run on an accusation's evidence. */
export function checkReshareSubShare(suite: Suite, holders: readonly string[], me: string, dealer: string, commitment: GroupPoint[], body: unknown): bigint {
  const sub = decodeScalar(suite, (body as { share?: unknown } | undefined)?.share, () => malformed(dealer, 'reshare sub-share'));
  if (!suite.Point.BASE.multiply(sub).equals(evaluateCommitment(commitment, idScalar(holders, me)))) {
    throw blame('PROTOCOL_INVALID_SHARE', dealer, `reshare sub-share from ${dealer} to ${me} fails the Feldman check against ${dealer}'s commitment`);
  }
  return sub;
}
