import { blame, inputError, malformed } from '../blame.js';
import { defaultRng } from '../poly.js';
import type { Rng, Rounds, Share } from '../types.js';
import { otCheckSender, otReceive, otSenderKeys, otSenderStart, otWipe, pairContext, partyContext, type OtSenderSecret } from './ot-base.js';
import { encodePairwise, type PairSetup } from './pairwise.js';
import type { P } from './suite.js';

// The pairwise initialisation DKLs23 signing needs (§3, the setup of F_RVOLE for every ordered
// pair), run inside the two rounds of a Shamir protocol that produces shares — DKG, refresh or
// reshare — so keygen stays two rounds (plus the echo) and a refresh renews every pair's state.
//
//   round 1 (broadcast): { vss: the inner protocol's payload, ot: my base-OT sender key A + proof }
//   round 2 (private):   { vss: the inner payload for you, ot: my KAPPA base-OT choices against
//                          your A, for the pair where I am the OT-extension sender }
//   finish:              the inner share, plus for every other holder: as extension sender my
//                        random Δ and the seeds I chose; as extension receiver both seeds.
// Everything is bound to the session id and the ordered pair, so a message of another run or
// another pair cannot be used here.

export type SetupOptions = { holders: readonly string[]; sessionId?: string; rng?: Rng };

type Round1 = { vss?: unknown; ot?: unknown };

export function withPairwiseSetup(inner: Rounds<Share>, o: SetupOptions): Rounds<Share> {
  const { me } = inner;
  if (!o.sessionId) throw inputError('SESSION_REQUIRED', 'the ecdsa engine needs the session id to bind its OT setup');
  const sid = o.sessionId;
  const rng = o.rng ?? defaultRng;
  const holder = o.holders.includes(me);
  const peers = o.holders.filter((h) => h !== me);
  const union = (xs: readonly string[]): string[] => [...new Set([...xs, ...o.holders])];
  const mine: { secret?: OtSenderSecret; deltas: Record<string, Uint8Array>; chosen: Record<string, Uint8Array[]> } = { deltas: {}, chosen: {} };
  const start = holder ? otSenderStart(partyContext(sid, me), rng) : null;
  mine.secret = start?.secret;
  const innerSends1 = inner.round1Senders.includes(me);

  return {
    protocol: inner.protocol,
    me,
    round1Senders: union(inner.round1Senders),
    round2Senders: union(inner.round2Senders),
    round2Receivers: inner.round2Receivers,
    round2Direct: true,

    round1() {
      const vss = innerSends1 ? inner.round1() : null;
      if (!holder) return vss === null ? null : { vss };
      return vss === null ? { ot: start!.message } : { vss, ot: start!.message };
    },

    round2(round1) {
      const innerIn: Record<string, unknown> = {};
      for (const s of inner.round1Senders) innerIn[s] = (round1[s] as Round1 | undefined)?.vss;
      const out = inner.round2(innerIn);
      const innerDirect = out && 'direct' in out ? out.direct : {};
      if (!holder) return out && 'direct' in out ? { direct: wrapAll(innerDirect) } : null;
      const direct: Record<string, unknown> = wrapAll(innerDirect);
      for (const peer of peers) {
        const A = senderKeyOf(sid, peer, round1[peer]);
        const delta = rng(16);
        const { message, keys } = otReceive(pairContext(sid, me, peer), A, delta, rng);
        mine.deltas[peer] = delta;
        mine.chosen[peer] = keys;
        direct[peer] = { ...(direct[peer] as object | undefined), ot: message };
      }
      return { direct };
    },

    finish(round2) {
      const innerIn: Record<string, unknown> = {};
      for (const s of inner.round2Senders) if (s !== me) innerIn[s] = (round2[s] as Round1 | undefined)?.vss;
      const share = inner.finish(innerIn);
      if (!holder || share === null) return share;
      const pairs: Record<string, PairSetup> = {};
      for (const peer of peers) {
        const fail = (why: string) => blame('PROTOCOL_MALFORMED', peer, `base-OT message from ${peer}: ${why}`);
        const { keys0, keys1 } = otSenderKeys(pairContext(sid, peer, me), mine.secret!, (round2[peer] as Round1 | undefined)?.ot, fail);
        pairs[peer] = { send: { delta: mine.deltas[peer]!, seeds: mine.chosen[peer]! }, receive: { seeds0: keys0, seeds1: keys1 } };
      }
      return { ...share, pairwise: encodePairwise(pairs) };
    },

    wipe() {
      inner.wipe();
      if (mine.secret) otWipe(mine.secret);
      for (const d of Object.values(mine.deltas)) d.fill(0);
      for (const keys of Object.values(mine.chosen)) for (const k of keys) k.fill(0);
    },
  };
}

function wrapAll(direct: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(direct).map(([to, body]) => [to, { vss: body }]));
}

function senderKeyOf(sid: string, peer: string, payload: unknown): P {
  const ot = (payload as Round1 | undefined)?.ot;
  if (ot === undefined) throw malformed(peer, 'round-1 base-OT key');
  return otCheckSender(partyContext(sid, peer), ot, (why) => blame('PROTOCOL_INVALID_PROOF', peer, `base-OT key from ${peer}: ${why}`));
}
