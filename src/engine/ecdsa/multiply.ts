import { hex } from '../../base/canonical.js';
import type { Fail } from '../codec.js';
import type { Rng } from '../types.js';
import { bytes, encScalar, failures, packedScalars, packScalars, scalars, type Failures } from './codec.js';
import { hashToScalars, scalarBytes, tagged } from './hash.js';
import { bitAt } from './ot-base.js';
import { cotReceive, cotSend, oteReceive, oteSend, XI, type OtExtMessage, type OtExtReceiverSetup, type OtExtReceiverState, type OtExtSenderSetup } from './ot-extension.js';
import { Fn } from './suite.js';

// Two-party multiplication with a random receiver input: DKLs23's F_RVOLE (Functionality 3.5),
// realised as DKLs23 §5 says, by the "forced reuse" form of DKLs19's Protocol 1 (ePrint
// 2019/523) over our OT extension, with DKLs23 §5.1's digest of the check matrix.
//
//   Bob (receiver), round 1:  β ← {0,1}^ξ, b = Σ g_j·β_j (b is his random input); OT-extend on β.
//   Alice (sender), round 2:  pads ã, check values â ← Zq^L; correlated OT with α = (ã, â):
//                             z̃_j + z̃'_j = β_j·ã, ẑ_j + ẑ'_j = β_j·â.
//                             χ̃, χ̂ = H(transcript); r_{l,j} = χ̃_l·z̃_{l,j} + χ̂_l·ẑ_{l,j};
//                             sends digest H(r), u_l = χ̃_l·ã_l + χ̂_l·â_l, γ_l = a_l − ã_l.
//                             Her output: Σ_j g_j·z̃_{l,j}.
//   Bob, round 3:             checks H(β_j·u_l − χ̃_l·z̃'_{l,j} − χ̂_l·ẑ'_{l,j}) = H(r); output
//                             Σ_j g_j·(z̃'_{l,j} + β_j·γ_l).
// Outputs add to a_l·b. Alice's check failure blames Bob (OT extension); Bob's blames Alice
// (multiplication check). Either failure can leak a little of the honest party's secret
// randomness, which is why a party that fails one is banned until the key is refreshed.
//
// The challenges χ are hashed over the whole transcript including τ, so Alice fixes her
// correlation before she can know them.

/** Alice's inputs per multiplication: DKLs23 signing multiplies (r_i, sk_i) by one random b. */
export const L = 2;
const WIDTH = 2 * L;

/** The public gadget vector g ∈ Zq^ξ of DKLs19 Protocol 1: fixed, every entry derived by hash (on first use). */
let gadget: readonly bigint[] | undefined;
export const gadgetVector = (): readonly bigint[] => (gadget ??= hashToScalars('mul/gadget', ['secp256k1'], XI));

export type MulBobState = { b: bigint; ote: OtExtReceiverState; otNonce: Uint8Array };
/** Bob's message: the OT extension, plus his fresh salt. */
export type MulStart = OtExtMessage & { salt: string };
/** Alice's reply: τ, the check digest and values, γ, plus her fresh salt. */
export type MulReply = { tau: string; r: string; u: string[]; gamma: string[]; salt: string };

// Beyond the run's nonce (session and ordered pair), Bob salts the OT-extension PRG and Alice
// the pad hash, each with fresh randomness: should a session id ever repeat, neither party's
// fresh secrets are expanded under the same nonce twice.
const otNonceOf = (nonce: Uint8Array, salt: Uint8Array): Uint8Array => tagged('mul/ot-nonce', [nonce, salt]);
const padNonceOf = (otNonce: Uint8Array, salt: Uint8Array): Uint8Array => tagged('mul/pad-nonce', [otNonce, salt]);

/** Bob's first message; `b` is his random input (the χ of DKLs23 signing). */
export function mulStart(setup: OtExtReceiverSetup, nonce: Uint8Array, rng: Rng): { message: MulStart; state: MulBobState } {
  const beta = rng(XI / 8);
  const g = gadgetVector();
  let b = 0n;
  for (let j = 0; j < XI; j++) b += g[j]! * BigInt(bitAt(beta, j));
  b = Fn.create(b);
  const salt = rng(16);
  const otNonce = otNonceOf(nonce, salt);
  const { message, state } = oteReceive(setup, otNonce, beta, rng);
  beta.fill(0);
  return { message: { ...message, salt: hex(salt) }, state: { b, ote: state, otNonce } };
}

function chis(nonce: Uint8Array, message: OtExtMessage, tau: string): { tilde: bigint[]; hat: bigint[] } {
  const all = hashToScalars('mul/chi', [nonce, message.u, message.x, message.t, tau], 2 * L);
  return { tilde: all.slice(0, L), hat: all.slice(L) };
}

const rDigest = (nonce: Uint8Array, r: readonly bigint[]): string => hex(tagged('mul/r', [nonce, ...r.map(scalarBytes)]));

/** Alice's side: checks Bob's OT extension (blaming him via `fail`), returns her shares and reply. */
export function mulRespond(setup: OtExtSenderSetup, nonce: Uint8Array, message: unknown, inputs: readonly bigint[], rng: Rng, fail: Fail | Failures): { shares: bigint[]; reply: MulReply } {
  const otNonce = otNonceOf(nonce, bytes((message as Partial<MulStart> | null)?.salt, 16, failures(fail).malformed));
  const rows = oteSend(setup, otNonce, message, fail);
  const m = message as MulStart;
  const salt = rng(16);
  const padNonce = padNonceOf(otNonce, salt);
  const aTilde = Array.from({ length: L }, () => Fn.create(BigInt('0x' + hex(rng(48)))));
  const aHat = Array.from({ length: L }, () => Fn.create(BigInt('0x' + hex(rng(48)))));
  const { z, tau } = cotSend(padNonce, rows, setup.delta, [...aTilde, ...aHat]);
  const tauHex = packScalars(tau);
  const chi = chis(padNonce, m, tauHex);
  const r: bigint[] = [];
  const shares: bigint[] = [];
  const g = gadgetVector();
  for (let l = 0; l < L; l++) {
    // Sums of products are reduced once, at the end (same value, fewer reductions).
    let share = 0n;
    for (let j = 0; j < XI; j++) {
      r.push(Fn.create(chi.tilde[l]! * z[j]![l]! + chi.hat[l]! * z[j]![L + l]!));
      share += g[j]! * z[j]![l]!;
    }
    shares.push(Fn.create(share));
  }
  const u = aTilde.map((at, l) => Fn.add(Fn.mul(chi.tilde[l]!, at), Fn.mul(chi.hat[l]!, aHat[l]!)));
  const gamma = inputs.map((a, l) => Fn.sub(a, aTilde[l]!));
  return { shares, reply: { tau: tauHex, r: rDigest(padNonce, r), u: u.map(encScalar), gamma: gamma.map(encScalar), salt: hex(salt) } };
}

/** Bob's side: checks Alice's reply (blaming her via `fail`) and returns his shares. */
export function mulFinish(state: MulBobState, message: MulStart, value: unknown, onFail: Fail | Failures): bigint[] {
  const { malformed: fail, check } = failures(onFail);
  const reply = value as Partial<MulReply> | null;
  const padNonce = padNonceOf(state.otNonce, bytes(reply?.salt, 16, fail));
  const tau = packedScalars(reply?.tau, XI * WIDTH, fail);
  const digest = bytes(reply?.r, 32, fail);
  const u = scalars(reply?.u, L, fail);
  const gamma = scalars(reply?.gamma, L, fail);
  const z = cotReceive(padNonce, state.ote, tau, WIDTH);
  const chi = chis(padNonce, message, reply!.tau as string);
  const r: bigint[] = [];
  const shares: bigint[] = [];
  const g = gadgetVector();
  for (let l = 0; l < L; l++) {
    let share = state.b * gamma[l]!;
    for (let j = 0; j < XI; j++) {
      const beta = BigInt(bitAt(state.ote.choices, j));
      r.push(Fn.create(beta * u[l]! - chi.tilde[l]! * z[j]![l]! - chi.hat[l]! * z[j]![L + l]!));
      share += g[j]! * z[j]![l]!;
    }
    shares.push(Fn.create(share));
  }
  if (rDigest(padNonce, r) !== hex(digest)) throw check('multiplication consistency check failed');
  return shares;
}

export function mulWipe(state: MulBobState): void {
  state.b = 0n;
  state.ote.rows.fill(0);
  state.ote.choices.fill(0);
}
