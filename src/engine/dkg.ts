import { fromHex, hex } from '../base/canonical.js';
import { blame, inputError, malformed } from './blame.js';
import { decodePoint, decodePoints, decodeScalar, encodeGroupKey } from './codec.js';
import { defaultRng } from './poly.js';
import { buildShare, idHex } from './share.js';
import type { GroupPoint, Suite } from './suite.js';
import type { DkgOptions, Rounds, Share } from './types.js';

// DKG on noble's FROST DKG (the frost-rs split-round API): round 1 broadcasts Feldman
// commitments with a proof of knowledge, round 2 sends each holder its secret sub-share,
// finish verifies every sub-share and derives the key share.

type NobleRound1 = { identifier: string; commitment: Uint8Array[]; proofOfKnowledge: Uint8Array };

export function dkgRounds(suite: Suite, o: DkgOptions): Rounds<Share> {
  const { me, parties, threshold } = o;
  checkSetup(parties, threshold, me);
  const { frost } = suite;
  const signers = { min: threshold, max: parties.length };
  const rng = o.rng ?? defaultRng;
  const others = parties.filter((p) => p !== me);
  const id = (p: string) => idHex(suite, parties, p);
  const state = frost.DKG.round1(id(me), signers, undefined, rng);
  let received: Record<string, NobleRound1> = {};

  return {
    protocol: 'dkg',
    me,
    round1Senders: parties,
    round2Senders: parties,
    round2Receivers: parties,
    round2Direct: true,
    round1: () => ({ commitment: state.public.commitment.map(hex), proofOfKnowledge: hex(state.public.proofOfKnowledge) }),

    round2(round1) {
      received = Object.fromEntries(others.map((p) => [p, decodeRound1(suite, threshold, p, id(p), round1[p])]));
      const packages = others.map((p) => received[p]!);
      let out: Record<string, { identifier: string; signingShare: Uint8Array }>;
      try {
        out = frost.DKG.round2(state.secret, packages);
      } catch {
        const culprit = findBadProof(suite, o, received);
        throw blame('PROTOCOL_INVALID_PROOF', culprit, `invalid proof of knowledge in the DKG round-1 broadcast from ${culprit}`);
      }
      return { direct: Object.fromEntries(others.map((p) => [p, { share: hex(out[id(p)]!.signingShare) }])) };
    },

    // noble's round 3 runs the Feldman check on every sub-share; only when it fails is each one
    // checked again on its own, to name the dealer (as findBadProof does for round 2).
    finish(round2) {
      const subShares = others.map((p) => ({ identifier: id(p), signingShare: decodeSubShare(suite, p, round2[p]) }));
      let key: NobleKey;
      try {
        key = frost.DKG.round3(state.secret, others.map((p) => received[p]!), subShares);
      } catch (e) {
        for (const p of others) checkDkgSubShare(suite, o, p, received[p]!.commitment, round2[p]);
        throw e;
      }
      const constants = [state.public.commitment[0]!, ...others.map((p) => received[p]!.commitment[0]!)];
      return toShare(suite, o, key, constants);
    },

    wipe: () => frost.DKG.clean(state.secret),
  };
}

function checkSetup(parties: string[], threshold: number, me: string): void {
  if (new Set(parties).size !== parties.length || parties.some((p) => typeof p !== 'string' || p === '')) {
    throw inputError('BAD_PARTIES', 'parties must be distinct, non-empty names');
  }
  if (!Number.isSafeInteger(threshold) || threshold < 2 || threshold > parties.length) {
    throw inputError('BAD_THRESHOLD', `threshold ${threshold} must be between 2 and ${parties.length}`);
  }
  if (!parties.includes(me)) throw inputError('NOT_A_HOLDER', `${me} is not one of the parties ${parties.join(', ')}`);
}

/**
 * `dealer`'s sub-share to `o.me` (its round-2 body), checked against the dealer's commitment on
 * its own once noble's round 3 has refused the set, so a bad one names its dealer (round 3 only
 * says that some share is invalid). The coordinator runs the same check on an accusation's
 * evidence (accusation.ts).
 */
export function checkDkgSubShare(suite: Suite, o: Pick<DkgOptions, 'me' | 'parties' | 'threshold'>, dealer: string, commitment: Uint8Array[], body: unknown): void {
  const signingShare = decodeSubShare(suite, dealer, body);
  const signers = { min: o.threshold, max: o.parties.length };
  try {
    suite.frost.validateSecret({ identifier: idHex(suite, o.parties, o.me), signingShare }, { signers, commitments: commitment, verifyingShares: {} });
  } catch {
    throw blame('PROTOCOL_INVALID_SHARE', dealer, `DKG sub-share from ${dealer} to ${o.me} fails the Feldman check against ${dealer}'s commitment`);
  }
}

function decodeSubShare(suite: Suite, dealer: string, body: unknown): Uint8Array {
  return suite.Fn.toBytes(decodeScalar(suite, (body as { share?: unknown } | undefined)?.share, () => malformed(dealer, 'DKG sub-share')));
}

export function decodeRound1(suite: Suite, t: number, party: string, identifier: string, payload: unknown): NobleRound1 {
  const p = payload as { commitment?: unknown; proofOfKnowledge?: unknown } | undefined;
  const fail = () => malformed(party, 'DKG round-1 broadcast');
  const commitment = decodePoints(suite, p?.commitment, t, fail).map((c) => c.toBytes());
  if (typeof p?.proofOfKnowledge !== 'string' || !/^[0-9a-f]+$/.test(p.proofOfKnowledge)) throw fail();
  return { identifier, commitment, proofOfKnowledge: fromHex(p.proofOfKnowledge, 'proof') };
}

// noble checks all proofs at once. To name the culprit, re-run its check once per suspect with
// every other package replaced by a freshly made (hence valid) one: the run that fails is the
// suspect's. Only on the failure path.
function findBadProof(suite: Suite, o: DkgOptions, received: Record<string, NobleRound1>): string {
  const signers = { min: o.threshold, max: o.parties.length };
  const others = o.parties.filter((p) => p !== o.me);
  for (const suspect of others) {
    const probe = suite.frost.DKG.round1(idHex(suite, o.parties, o.me), signers);
    const packages = others.map((p) => (p === suspect ? received[p]! : suite.frost.DKG.round1(idHex(suite, o.parties, p), signers).public));
    try {
      suite.frost.DKG.round2(probe.secret, packages);
    } catch {
      return suspect;
    } finally {
      suite.frost.DKG.clean(probe.secret);
    }
  }
  return 'unknown';
}

type NobleKey = { public: { commitments: Uint8Array[]; verifyingShares: Record<string, Uint8Array> }; secret: { signingShare: Uint8Array } };

// `constants`: every dealer's round-1 C₀ (own included), whose sum is the untweaked group key P.
function toShare(suite: Suite, o: DkgOptions, key: NobleKey, constants: Uint8Array[]): Share {
  const fail = (why: string) => new Error(`DKG output: ${why}`);
  let groupKey = decodePoint(suite, hex(key.public.commitments[0]!), fail);
  let secret = suite.Fn.fromBytes(key.secret.signingShare);
  let verifyingShares: Record<string, GroupPoint> = Object.fromEntries(
    o.parties.map((p) => [p, decodePoint(suite, hex(key.public.verifyingShares[idHex(suite, o.parties, p)]!), fail)]),
  );
  // bip340: BIP-340 keys are x-only. If noble's (already tweaked) Q has odd y, hold shares of −Q
  // instead: same x, same address, and exactly what noble's signer does at every signing anyway.
  if (suite.evenY && groupKey.toBytes()[0] !== 0x02) {
    groupKey = groupKey.negate();
    secret = suite.Fn.neg(secret);
    verifyingShares = Object.fromEntries(Object.entries(verifyingShares).map(([p, v]) => [p, v.negate()]));
  }
  const internalKey = suite.outputKeyOf && internalKeyOf(suite, constants, encodeGroupKey(suite, groupKey));
  return buildShare(suite, { epoch: 1, groupKey, internalKey, verifyingShares, threshold: o.threshold, parties: o.parties }, o.me, secret);
}

// bip340: x(P) for P = Σ C₀, the key before noble's TapTweak. Its BIP-341 key-path-only tweak
// must be the Q noble gave, or this is not the key a `tr(x(P))` wallet would derive.
function internalKeyOf(suite: Suite, constants: Uint8Array[], outputKey: string): string {
  const P = constants.map((c) => suite.Point.fromBytes(c)).reduce((a, b) => a.add(b));
  const internalKey = hex(P.toBytes().subarray(1)); // compressed SEC1 without its parity byte: BIP-340's bytes(P)
  if (suite.outputKeyOf!(internalKey) !== outputKey) throw new Error('DKG output: the group key is not the BIP-341 output key of the internal key');
  return internalKey;
}
