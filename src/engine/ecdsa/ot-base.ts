import { hex } from '../../base/canonical.js';
import type { Fail } from '../codec.js';
import type { Rng } from '../types.js';
import { bytes, encPoint, encScalar, point, scalar } from './codec.js';
import { hashToScalar, tagged } from './hash.js';
import { Fn, Point, type P } from './suite.js';

// Base oblivious transfer: the "simplest OT" of Chou and Orlandi (2015), with a Schnorr proof of
// knowledge of the sender's secret so that the sender's key can be extracted (as the verified
// simplest OT that DKLs19 and DKLs23 §3 assume for F_OT setup). KAPPA base OTs per ordered pair
// seed the OT extension (ot-extension.ts); they run once, inside DKG, refresh and reshare, and their
// outputs live only in the holder's share.
//
//   sender:   a ← Zq, A = a·G, proof of knowledge of a                     (one A per party)
//   receiver: for each k, b_k ← Zq, B_k = b_k·G + c_k·A                   (c_k its choice bit)
//             key_k = H(ctx, k, A, B_k, b_k·A)
//   sender:   key0_k = H(ctx, k, A, B_k, a·B_k), key1_k = H(ctx, k, A, B_k, a·B_k − a·A)
// The receiver learns exactly key_{c_k}; the other key needs CDH. B_k reveals nothing about c_k.

export const KAPPA = 128;
export const SEED_BYTES = 32;

export type OtSenderSecret = { a: bigint; A: P };
export type OtSenderMessage = { A: string; proof: { K: string; z: string } };

function challenge(ctx: Uint8Array, A: P, K: P): bigint {
  return hashToScalar('base-ot/pok', [ctx, A.toBytes(true), K.toBytes(true)]);
}

function randomNonZero(rng: Rng): bigint {
  for (;;) {
    const k = Fn.create(BigInt('0x' + hex(rng(48))));
    if (k !== 0n) return k;
  }
}

/** The sender's one message: A and a proof of knowledge of a, bound to `ctx` (session, sender). */
export function otSenderStart(ctx: Uint8Array, rng: Rng): { secret: OtSenderSecret; message: OtSenderMessage } {
  const a = randomNonZero(rng);
  const A = Point.BASE.multiply(a);
  const k = randomNonZero(rng);
  const K = Point.BASE.multiply(k);
  const z = Fn.add(k, Fn.mul(challenge(ctx, A, K), a));
  return { secret: { a, A }, message: { A: encPoint(A), proof: { K: encPoint(K), z: encScalar(z) } } };
}

/** Checks a sender's message: valid points and a proof that verifies (z·G = K + c·A). */
export function otCheckSender(ctx: Uint8Array, value: unknown, fail: Fail): P {
  const m = value as Partial<OtSenderMessage> | null;
  const A = point(m?.A, fail);
  const K = point(m?.proof?.K, fail);
  const z = scalar(m?.proof?.z, fail);
  if (!Point.BASE.multiply(z).equals(K.add(A.multiply(challenge(ctx, A, K))))) throw fail('proof of knowledge does not verify');
  return A;
}

function keyOf(ctx: Uint8Array, k: number, A: P, B: P, shared: P): Uint8Array {
  return tagged('base-ot/key', [ctx, k, A.toBytes(true), B.toBytes(true), shared.toBytes(true)], SEED_BYTES);
}

/** Receiver side for KAPPA OTs with choice bits `choices` (bit k of the byte string). */
export function otReceive(ctx: Uint8Array, A: P, choices: Uint8Array, rng: Rng): { message: string[]; keys: Uint8Array[] } {
  const message: string[] = [];
  const keys: Uint8Array[] = [];
  A.precompute(8, false);
  for (let k = 0; k < KAPPA; k++) {
    const b = randomNonZero(rng);
    const bG = Point.BASE.multiply(b);
    // Both candidates are computed, then one is picked: no secret-dependent group operation.
    const B = [bG, bG.add(A)][bitAt(choices, k)]!;
    message.push(encPoint(B));
    keys.push(keyOf(ctx, k, A, B, A.multiply(b)));
  }
  return { message, keys };
}

/** Sender side: both keys of every OT, from the receiver's B values (untrusted). */
export function otSenderKeys(ctx: Uint8Array, secret: OtSenderSecret, value: unknown, fail: Fail): { keys0: Uint8Array[]; keys1: Uint8Array[] } {
  if (!Array.isArray(value) || value.length !== KAPPA) throw fail(`expected ${KAPPA} base-OT points`);
  const aA = secret.A.multiply(secret.a);
  const keys0: Uint8Array[] = [];
  const keys1: Uint8Array[] = [];
  value.forEach((v, k) => {
    const B = point(v, fail);
    const aB = B.multiply(secret.a);
    keys0.push(keyOf(ctx, k, secret.A, B, aB));
    keys1.push(keyOf(ctx, k, secret.A, B, aB.subtract(aA)));
  });
  return { keys0, keys1 };
}

export function otWipe(secret: OtSenderSecret): void {
  secret.a = 0n;
}

export const bitAt = (b: Uint8Array, i: number): number => (b[i >> 3]! >> (i & 7)) & 1;

/** Context bytes binding base OTs to a session and an ordered pair (OT sender → OT receiver). */
export const pairContext = (sessionId: string, sender: string, receiver: string): Uint8Array =>
  tagged('base-ot/ctx', [sessionId, sender, receiver]);

export const partyContext = (sessionId: string, party: string): Uint8Array => tagged('base-ot/party', [sessionId, party]);

export { bytes as decodeBytes };
