import { KeyriteError } from '../base/errors.js';
import { blame, inputError, malformed } from './blame.js';
import { decodePoints, decodeScalar, encodePoint, encodeScalar } from './codec.js';
import type { SessionParams } from './envelope.js';
import type { PartySetup } from './party.js';
import { commit, lagrangeAtZero, randomScalar, wipeScalars } from './poly.js';
import { ProtocolParty } from './protocol.js';
import { buildShare, groupData, idScalar, parsePublicPackage, parseShare, publicPackageOf, samePackage, type GroupData } from './share.js';
import { SUITES, type GroupPoint, type Suite } from './suite.js';
import type { MultiRounds, PublicPackage, Rng, RoundIn, RoundOut, Share } from './types.js';

// Repairable threshold shares (Laing & Stinson, "A Survey and Refinement of Repairable Threshold
// Schemes", 2017, §4; the same three steps as frost-core's keys/repairable.rs). At least t
// holders, the helpers, rebuild the lost share of one holder, the participant, without the group
// secret being rebuilt anywhere and without any share changing, so the epoch stays:
//   step 1  helper i splits ζᵢ·sᵢ into one random delta per helper (ζᵢ: its Lagrange coefficient
//           at the participant's identifier within the helper set), and sends each helper its delta;
//   step 2  helper j adds the deltas it holds into σⱼ and sends σⱼ to the participant;
//   step 3  the participant adds the σs: Σⱼσⱼ = Σᵢζᵢ·sᵢ = f(x_participant), its share.
// The run has two rounds: step 1's deltas in round 1, the σs in round 2. Beyond frost-core, a
// helper also broadcasts its deltas times G in round 1, under the echo of docs/ARCHITECTURE.md §5.
// Everyone checks that they add up to ζᵢ times the helper's verifying share, a helper checks each
// delta it receives against them, and the participant each σ, so a wrong value names the helper
// who sent it. The rebuilt share must match the participant's verifying share in the key's
// public package before it is returned.
//
// A repair session lists the helpers as its `dealers` and the participant as its only
// `participants` entry; t and n are the key's. Only the FROST suites repair: an ecdsa (DKLs23)
// share also carries pairwise OT state (src/engine/ecdsa/) that this scheme does not rebuild, so
// a lost ecdsa share is replaced by reshare.

export type RepairOptions = {
  me: string;
  /** The key's public package at the epoch being repaired (its key record). */
  key: PublicPackage;
  /** A helper's own share of `key`; the participant has none. */
  share?: Share;
  /** The holders who help, at least the key's threshold, the participant not among them. */
  helpers: string[];
  /** The holder whose share is rebuilt. */
  participant: string;
  rng?: Rng;
};

/**
 * Step 1: helper `share.party`'s deltas, one per helper in `helpers` order. The first
 * `random.length` = helpers − 1 are the given random values; the last makes them add up to
 * ζ·s, as in frost-core. Tests feed fixed values; a run draws them from its rng.
 */
export function repairDeltas(suite: Suite, share: Share, helpers: readonly string[], participant: string, random: readonly bigint[]): bigint[] {
  if (random.length !== helpers.length - 1) throw new Error(`repair step 1 takes ${helpers.length - 1} random values, got ${random.length}`);
  const { Fn } = suite;
  const secret = decodeScalar(suite, share.secret, (why) => new Error(why));
  const target = Fn.mul(zeta(suite, share.parties, helpers, participant, share.party), secret);
  return [...random, Fn.sub(target, repairSum(suite, random))];
}

/** Steps 2 and 3 are the same sum in the scalar field: σⱼ of the deltas helper j holds, the share of the σs. */
export function repairSum(suite: Suite, values: readonly bigint[]): bigint {
  return values.reduce((acc, v) => suite.Fn.add(acc, v), suite.Fn.ZERO);
}

/** Step 3: the participant's share from every helper's σ, refused unless it matches the key's verifying share. */
export function repairShare(suite: Suite, key: PublicPackage, participant: string, sigmas: Record<string, bigint>): Share {
  const data = groupData(suite, key);
  const secret = repairSum(suite, Object.values(sigmas));
  if (!suite.Point.BASE.multiply(secret).equals(data.verifyingShares[participant]!)) {
    const helpers = Object.keys(sigmas);
    throw new KeyriteError('SHARE_INVALID', `the share of ${participant} rebuilt by ${helpers.join(', ')} does not match ${participant}'s verifying share in key ${key.keyId}; one of these helpers sent a wrong value, nothing was kept`, {
      details: { helpers },
    });
  }
  return buildShare(suite, { ...data, keyId: key.keyId, epoch: key.epoch, internalKey: key.internalKey, threshold: key.threshold, parties: key.parties }, participant, secret);
}

/** One party's side of a repair, for `ProtocolParty`: round 1 the commitments and deltas, round 2 the σs. */
export function repairRounds(suite: Suite, o: RepairOptions): MultiRounds<Share> {
  const { me, helpers, participant } = o;
  const key = parsePublicPackage(suite, o.key, `key ${o.key.keyId}`);
  const isHelper = helpers.includes(me);
  checkSetup(o, key, isHelper);
  const data = groupData(suite, key);
  const share = isHelper ? parseShare(suite, o.share, `share of ${me}`) : null;
  const deltas = share ? repairDeltas(suite, share, helpers, participant, helpers.slice(1).map(() => randomScalar(suite, o.rng))) : [];
  const sigma = [suite.Fn.ZERO];
  let commitments: Record<string, GroupPoint[]> = {};
  const column = (j: string): GroupPoint => helpers.reduce((acc, i) => acc.add(commitments[i]![helpers.indexOf(j)]!), suite.Point.ZERO);

  return {
    protocol: 'repair',
    me,
    plan: [
      { senders: helpers, receivers: [], broadcast: true, direct: true },
      { senders: helpers, receivers: [participant], broadcast: false, direct: true },
    ],

    send(round, got) {
      if (round === 1) return share ? round1() : null;
      commitments = Object.fromEntries(helpers.map((i) => [i, checkCommitment(suite, o, key, data, i, got.broadcast[i])]));
      if (!share) return null;
      const mine = helpers.indexOf(me);
      const held = helpers.map((i) => (i === me ? deltas[mine]! : received(suite, got, i, 'delta', commitments[i]![mine]!, `delta from ${i} to ${me}`)));
      sigma[0] = repairSum(suite, held);
      wipeScalars(held);
      return { direct: { [participant]: { sigma: encodeScalar(suite, sigma[0]!) } } };
    },

    finish(got) {
      if (me !== participant) return null;
      const sigmas = Object.fromEntries(helpers.map((j) => [j, received(suite, got, j, 'sigma', column(j), `σ from ${j}`)]));
      return repairShare(suite, key, participant, sigmas);
    },

    wipe() {
      wipeScalars(deltas);
      wipeScalars(sigma);
    },
  };

  // The drivers deliver each round to every member still running, so round 1 carries one private
  // payload from each helper to every member: the other helpers get their delta, the participant
  // an empty one, as it has nothing to receive before the σs.
  function round1(): RoundOut {
    const direct = Object.fromEntries(helpers.filter((j) => j !== me).map((j) => [j, { delta: encodeScalar(suite, deltas[helpers.indexOf(j)]!) }]));
    return { broadcast: { commitment: commit(suite, deltas).map(encodePoint) }, direct: { ...direct, [participant]: {} } };
  }
}

/** A party's run of a repair session (its helpers are the session's `dealers`, the participant its one participant). */
export function repairParty(s: PartySetup, o: { key: PublicPackage; share?: Share; rng?: Rng }): ProtocolParty<Share> {
  const { session } = s;
  const suite = SUITES[session.engine];
  if (!suite) {
    throw inputError('UNKNOWN_ENGINE', `share repair is built for the FROST engines ${Object.keys(SUITES).join(', ')} only, not ${session.engine} (a lost ecdsa share is replaced by reshare)`);
  }
  checkSession(session, o.key);
  if (o.share && o.share.party !== s.keys.name) throw inputError('SESSION_MISMATCH', `share of ${o.share.party} is not ${s.keys.name}'s share`);
  const rounds = repairRounds(suite, { me: s.keys.name, key: o.key, share: o.share, helpers: session.dealers ?? [], participant: session.participants[0]!, rng: o.rng });
  return new ProtocolParty(session, s.keys, s.roster, rounds);
}

function checkSession(session: SessionParams, key: PublicPackage): void {
  const mismatch = (why: string) => inputError('SESSION_MISMATCH', why);
  if (session.engine !== key.engine || session.keyId !== key.keyId) throw mismatch(`the session is for ${session.engine} key ${session.keyId}, not ${key.engine} key ${key.keyId}`);
  if (session.epoch !== key.epoch) throw inputError('SHARE_WRONG_EPOCH', `key ${key.keyId} is at epoch ${key.epoch}; the repair session is for epoch ${session.epoch}`);
  if (session.t !== key.threshold || session.n !== key.parties.length) throw mismatch(`session is ${session.t}-of-${session.n}, key is ${key.threshold}-of-${key.parties.length}`);
  if (session.participants.length !== 1 || !session.dealers) throw mismatch('a repair session names its helpers as dealers and exactly one participant, whose share is rebuilt');
}

// The refusals of a repair that cannot work, before any secret state exists; each names the party.
function checkSetup(o: RepairOptions, key: PublicPackage, isHelper: boolean): void {
  const { me, helpers, participant } = o;
  const t = key.threshold;
  if (!key.parties.includes(participant)) throw inputError('NOT_A_HOLDER', `${participant} holds no party of key ${key.keyId}, so has no share to repair`, { party: participant });
  for (const [k, h] of helpers.entries()) {
    if (!key.parties.includes(h)) throw inputError('NOT_A_HOLDER', `helper ${h} holds no party of key ${key.keyId}`, { party: h });
    if (h === participant) throw inputError('BAD_SIGNER_SET', `${h} is the holder whose share is being repaired and cannot be one of its helpers`, { party: h });
    if (helpers.indexOf(h) !== k) throw inputError('BAD_SIGNER_SET', `helper ${h} is named twice`, { party: h });
  }
  if (helpers.length < t) {
    throw inputError('BELOW_THRESHOLD', `${helpers.length} helper(s) (${helpers.join(', ')}) cannot repair a share of the ${t}-of-${key.parties.length} key ${key.keyId}: it takes ${t}`);
  }
  if (!isHelper && me !== participant) throw inputError('SESSION_MISMATCH', `${me} is neither a helper nor ${participant}, whose share is repaired`);
  if (isHelper && (!o.share || o.share.party !== me || !samePackage(publicPackageOf(o.share), key))) {
    throw inputError('SHARE_INVALID', `helper ${me} needs its own share of key ${key.keyId} at epoch ${key.epoch}`, { party: me });
  }
}

// ζᵢ = λᵢ(x_p) = Π_{j≠i} (x_p − x_j)/(x_i − x_j): the Lagrange coefficient at 0 after moving
// every identifier by −x_p (x_p is not a helper's, so none becomes 0).
function zeta(suite: Suite, parties: readonly string[], helpers: readonly string[], participant: string, helper: string): bigint {
  const { Fn } = suite;
  const xp = idScalar(parties, participant);
  const moved = (name: string) => Fn.sub(idScalar(parties, name), xp);
  return lagrangeAtZero(suite, helpers.map(moved), moved(helper));
}

// Helper i's deltas times G, one per helper; they must add up to ζᵢ·(i's verifying share).
function checkCommitment(suite: Suite, o: RepairOptions, key: PublicPackage, data: GroupData, helper: string, payload: unknown): GroupPoint[] {
  const c = decodePoints(suite, (payload as { commitment?: unknown } | undefined)?.commitment, o.helpers.length, () => malformed(helper, 'repair commitment'));
  const expected = data.verifyingShares[helper]!.multiply(zeta(suite, key.parties, o.helpers, o.participant, helper));
  if (!c.reduce((acc, p) => acc.add(p), suite.Point.ZERO).equals(expected)) {
    throw blame('PROTOCOL_INVALID_COMMITMENT', helper, `repair commitment from ${helper} does not add up to ζ·(${helper}'s verifying share): its deltas would not rebuild ${o.participant}'s share`);
  }
  return c;
}

// A delta or σ received from `from`, checked against the point the commitments say it has.
function received(suite: Suite, got: RoundIn, from: string, field: 'delta' | 'sigma', expected: GroupPoint, what: string): bigint {
  const v = decodeScalar(suite, (got.direct[from] as Record<string, unknown> | undefined)?.[field], () => malformed(from, `repair ${field}`));
  if (!suite.Point.BASE.multiply(v).equals(expected)) throw blame('PROTOCOL_INVALID_SHARE', from, `repair ${what} does not match ${from}'s commitment`);
  return v;
}
