import { fromHex, hex } from '../../base/canonical.js';
import type { Fail } from '../codec.js';
import type { PairwiseSetup, Share } from '../types.js';
import { bytes } from './codec.js';
import { KAPPA, SEED_BYTES } from './ot-base.js';
import type { OtExtReceiverSetup, OtExtSenderSetup } from './ot-extension.js';

// The pairwise OT state a holder keeps in its share, one entry per other holder (DKLs23 §3:
// the F_RVOLE setup for every ordered pair). As JSON it is hex; in memory, byte arrays. It is as
// secret as the share's scalar: whoever learns a peer's entry can read that peer's
// multiplications. Parsing checks that every other holder, and only they, have an entry and
// that every field has its exact length.

export type PairSetup = { send: OtExtSenderSetup; receive: OtExtReceiverSetup };

const split = (b: Uint8Array): Uint8Array[] => Array.from({ length: KAPPA }, (_, i) => b.slice(i * SEED_BYTES, (i + 1) * SEED_BYTES));
const join = (seeds: readonly Uint8Array[]): string => hex(Uint8Array.from(seeds.flatMap((s) => [...s])));

export function encodePairwise(pairs: Record<string, PairSetup>): Record<string, PairwiseSetup> {
  return Object.fromEntries(
    Object.entries(pairs).map(([peer, p]) => [
      peer,
      { send: { delta: hex(p.send.delta), seeds: join(p.send.seeds) }, receive: { seeds0: join(p.receive.seeds0), seeds1: join(p.receive.seeds1) } },
    ]),
  );
}

/** Validates the `pairwise` field of an ecdsa share against its holder list. */
export function checkPairwise(share: Pick<Share, 'party' | 'parties'> & { pairwise?: unknown }, fail: Fail): Record<string, PairwiseSetup> {
  const value = share.pairwise;
  const peers = share.parties.filter((p) => p !== share.party);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('pairwise OT setup is missing');
  const entries = value as Record<string, unknown>;
  if (Object.keys(entries).sort().join('\u0000') !== [...peers].sort().join('\u0000')) throw fail('pairwise OT setup must list exactly the other holders');
  const out: Record<string, PairwiseSetup> = {};
  for (const peer of peers) {
    const e = entries[peer] as Partial<PairwiseSetup> | null;
    const at = (why: string) => fail(`pairwise OT setup with ${peer}: ${why}`);
    bytes(e?.send?.delta, KAPPA / 8, at);
    bytes(e?.send?.seeds, KAPPA * SEED_BYTES, at);
    bytes(e?.receive?.seeds0, KAPPA * SEED_BYTES, at);
    bytes(e?.receive?.seeds1, KAPPA * SEED_BYTES, at);
    out[peer] = { send: { delta: e!.send!.delta, seeds: e!.send!.seeds }, receive: { seeds0: e!.receive!.seeds0, seeds1: e!.receive!.seeds1 } };
  }
  return out;
}

export function decodePair(p: PairwiseSetup): PairSetup {
  return {
    send: { delta: fromHex(p.send.delta, 'delta', KAPPA / 8), seeds: split(fromHex(p.send.seeds, 'seeds')) },
    receive: { seeds0: split(fromHex(p.receive.seeds0, 'seeds0')), seeds1: split(fromHex(p.receive.seeds1, 'seeds1')) },
  };
}

export function wipePair(p: PairSetup): void {
  p.send.delta.fill(0);
  for (const s of [...p.send.seeds, ...p.receive.seeds0, ...p.receive.seeds1]) s.fill(0);
}
