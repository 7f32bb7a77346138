import { blame, inputError, malformed } from '../blame.js';
import { defaultRng } from '../poly.js';
import type { MultiRounds, RoundIn, RoundOut, Rng, Rounds, Share } from '../types.js';
import { tagged } from './hash.js';
import { KAPPA, otCheckSender, otReceive, otSenderKeys, otSenderStart, otWipe, pairContext, partyContext } from './ot-base.js';
import { oteReceive, oteSend, seedPad, type OtExtMessage, type OtExtReceiverState } from './ot-extension.js';
import { encodePairwise, wipePair, type PairSetup } from './pairwise.js';
import type { P } from './suite.js';

// The pairwise initialisation DKLs23 signing needs (§3: F_RVOLE's setup for every ordered pair),
// run alongside a two-round Shamir protocol that produces shares — DKG, refresh or reshare — so
// that keygen is one run and a refresh renews every pair's state.
//
// For each pair of holders, `lo` before `hi` in holder order, only ONE batch of KAPPA base OTs
// (the expensive part: one variable-base multiplication per OT on each side) is run; the other
// direction is bootstrapped from it with one small KOS extension:
//   round 1 (broadcast): { vss: inner payload, ot: my base-OT sender key A + proof }
//   round 2 (private):   lo → hi: { vss, ot: KAPPA choices B_k against A_hi, choice bits Δ_lo }
//                        → setup lo→hi: lo holds Δ_lo and k^{Δ_lo}; hi holds (k^0, k^1)
//                        hi → lo: { vss }
//   round 3 (private):   hi → lo: a KOS extension on lo→hi with KAPPA choice bits Δ_hi
//                        → setup hi→lo: hi holds Δ_hi and the pads it chose; lo both pads
//                        lo → hi: {}
//   finish:              the inner share, plus every pair's state in `pairwise`.
// The bootstrap's KOS check protects lo's Δ_lo as in signing. Every hash is bound to the session
// id and the ordered pair, so messages of another run or pair do not fit.

export type SetupOptions = { holders: readonly string[]; sessionId?: string; rng?: Rng };

type Body = { vss?: unknown; ot?: unknown; boot?: unknown };

export function withPairwiseSetup(inner: Rounds<Share>, o: SetupOptions): MultiRounds<Share> {
  const { me } = inner;
  if (!o.sessionId) throw inputError('SESSION_REQUIRED', 'the ecdsa engine needs the session id to bind its OT setup');
  const sid = o.sessionId;
  const rng = o.rng ?? defaultRng;
  const holders = o.holders;
  const holder = holders.includes(me);
  const peers = holders.filter((h) => h !== me);
  const higher = peers.filter((p) => holders.indexOf(p) > holders.indexOf(me));
  const lower = peers.filter((p) => holders.indexOf(p) < holders.indexOf(me));
  const union = (xs: readonly string[]): string[] => [...new Set([...xs, ...holders])];
  const start = holder && lower.length ? otSenderStart(partyContext(sid, me), rng) : null;
  const pairs: Record<string, Partial<PairSetup>> = {};
  const boot: Record<string, { state: OtExtReceiverState; message: OtExtMessage; delta: Uint8Array }> = {};
  let share: Share | null = null;
  const bootNonce = (lo: string, hi: string): Uint8Array => tagged('setup/boot', [sid, lo, hi]);

  return {
    protocol: inner.protocol,
    me,
    plan: [
      { senders: union(inner.round1Senders), receivers: [], broadcast: true, direct: false },
      { senders: union(inner.round2Senders), receivers: inner.round2Receivers, broadcast: false, direct: true },
      { senders: holders, receivers: holders, broadcast: false, direct: true },
    ],

    send(round, got) {
      if (round === 1) return round1();
      if (round === 2) return round2(got);
      return round3(got);
    },

    finish(got) {
      if (!holder || share === null) return share;
      for (const p of higher) {
        const pair = pairs[p]!;
        const fail = {
          malformed: (why: string) => blame('PROTOCOL_MALFORMED', p, `malformed OT setup message from ${p}: ${why}`),
          check: (why: string) => blame('PROTOCOL_OT_CHECK', p, `OT setup from ${p}: ${why}`),
        };
        const body = got.direct[p] as Body | undefined;
        const rows = oteSend(pair.send!, bootNonce(me, p), body?.boot, fail, KAPPA);
        // lo's two pads per row are the hi→lo receiver seeds.
        pair.receive = { seeds0: [], seeds1: [] };
        for (let k = 0; k < KAPPA; k++) {
          pair.receive.seeds0.push(seedPad(bootNonce(me, p), k, rows));
          pair.receive.seeds1.push(seedPad(bootNonce(me, p), k, rows, pair.send!.delta));
        }
      }
      return { ...share, pairwise: encodePairwise(pairs as Record<string, PairSetup>) };
    },

    wipe() {
      inner.wipe();
      if (start) otWipe(start.secret);
      for (const p of Object.values(pairs)) wipePair(fill(p));
      for (const b of Object.values(boot)) {
        b.state.rows.fill(0);
        b.state.choices.fill(0);
        b.delta.fill(0);
      }
    },
  };

  function round1(): RoundOut | null {
    const vss = inner.round1Senders.includes(me) ? inner.round1() : null;
    const body: Body = {};
    if (vss !== null) body.vss = vss;
    if (start) body.ot = start.message;
    // Every holder sends, even the first, which has no base-OT key to publish (plan: all holders).
    return holder || vss !== null ? { broadcast: body } : null;
  }

  function round2(got: RoundIn): RoundOut | null {
    const vssIn: Record<string, unknown> = {};
    for (const s of inner.round1Senders) vssIn[s] = (got.broadcast[s] as Body | undefined)?.vss;
    const out = inner.round2(vssIn);
    const direct: Record<string, unknown> = {};
    if (out && 'direct' in out) for (const [to, body] of Object.entries(out.direct)) direct[to] = { vss: body };
    if (!holder) return Object.keys(direct).length ? { direct } : null;
    for (const hi of higher) {
      const A = senderKeyOf(sid, hi, got.broadcast[hi]);
      const delta = rng(KAPPA / 8);
      const { message, keys } = otReceive(pairContext(sid, me, hi), A, delta, rng);
      pairs[hi] = { send: { delta, seeds: keys } };
      direct[hi] = { ...(direct[hi] as Body | undefined), ot: message };
    }
    for (const lo of lower) direct[lo] ??= {};
    return { direct };
  }

  function round3(got: RoundIn): RoundOut | null {
    const vssIn: Record<string, unknown> = {};
    for (const s of inner.round2Senders) if (s !== me) vssIn[s] = (got.direct[s] as Body | undefined)?.vss;
    share = inner.finish(vssIn);
    if (!holder) return null;
    const direct: Record<string, unknown> = {};
    for (const lo of lower) {
      const fail = (why: string) => blame('PROTOCOL_MALFORMED', lo, `base-OT message from ${lo}: ${why}`);
      const { keys0, keys1 } = otSenderKeys(pairContext(sid, lo, me), start!.secret, (got.direct[lo] as Body | undefined)?.ot, fail);
      // hi chooses Δ_hi as its choice bits on the lo→hi extension: the pads it gets are its seeds.
      const delta = rng(KAPPA / 8);
      const ext = oteReceive({ seeds0: keys0, seeds1: keys1 }, bootNonce(lo, me), delta, rng, KAPPA);
      const seeds = Array.from({ length: KAPPA }, (_, k) => seedPad(bootNonce(lo, me), k, ext.state.rows));
      // The base OTs themselves stay as hi's receiver seeds of lo→hi (later runs use other nonces).
      pairs[lo] = { send: { delta, seeds }, receive: { seeds0: keys0, seeds1: keys1 } };
      boot[lo] = { ...ext, delta };
      direct[lo] = { boot: ext.message };
    }
    for (const hi of higher) direct[hi] = {};
    return { direct };
  }
}

// A pair's state may be half-built when a run aborts; wipe whatever is there.
function fill(p: Partial<PairSetup>): PairSetup {
  return { send: p.send ?? { delta: new Uint8Array(0), seeds: [] }, receive: p.receive ?? { seeds0: [], seeds1: [] } };
}

function senderKeyOf(sid: string, peer: string, payload: unknown): P {
  const ot = (payload as Body | undefined)?.ot;
  if (ot === undefined) throw malformed(peer, 'round-1 base-OT key');
  return otCheckSender(partyContext(sid, peer), ot, (why) => blame('PROTOCOL_INVALID_PROOF', peer, `base-OT key from ${peer}: ${why}`));
}
