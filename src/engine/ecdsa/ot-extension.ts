import { hex } from '../../base/canonical.js';
import type { Fail } from '../codec.js';
import type { Rng } from '../types.js';
import { b64, bytes, failures, toB64, type Failures } from './codec.js';
import { fromBig, gfDot, gfMul, toBig } from './gf128.js';
import { tagged, taggedWith, toScalars } from './hash.js';
import { bitAt, KAPPA } from './ot-base.js';
import { Fn } from './suite.js';

// OT extension: KOS15 (Keller, Orsini, Scholl, "Actively Secure OT Extension with Optimal
// Overhead", ePrint 2015/546, Fig. 7) with its consistency check over GF(2^128), made
// non-interactive by deriving the check's challenge from the receiver's message (Fiat–Shamir),
// as DKLs23 §5 suggests for keeping signing at three rounds.
//
// Setup (from KAPPA base OTs, roles reversed): the extension SENDER holds a secret Δ ∈ {0,1}^κ
// and one seed per column, k_i^{Δ_i}; the extension RECEIVER holds both seeds k_i^0, k_i^1.
// Extend, for choice bits x (ROWS of them; the last PAD are random and only mask the check):
//   receiver: t^i = G(k_i^0), u^i = t^i ⊕ G(k_i^1) ⊕ x           → sends u
//   sender:   q^i = G(k_i^{Δ_i}) ⊕ Δ_i·u^i, so row-wise q_j = t_j ⊕ x_j·Δ
//   check:    χ_j = H(nonce, u); receiver sends x̃ = Σ x_j·χ_j and t̃ = Σ t_j·χ_j;
//             the sender accepts only if Σ q_j·χ_j = t̃ + x̃·Δ.
// Then H(j, q_j) and H(j, q_j ⊕ Δ) are the sender's two random messages of OT j, and the
// receiver's H(j, t_j) is the one it chose. A failed check means the receiver cheated; each
// failure can leak a bit of Δ, so the caller must ban the receiver (docs/ARCHITECTURE.md §3).
//
// G is SHAKE256 keyed by the seed and bound to a per-run nonce (session and ordered pair), so the
// long-lived base-OT seeds are never expanded twice for the same nonce.

/** Payload rows of one multiplication: its batch ξ = |q| + 2s = 256 + 2·80 (DKLs19 Protocol 1; DKLs23 §5). */
export const XI = 416;
/** KOS padding rows: κ + s random choice bits that hide x̃. */
export const PAD = KAPPA + 80;
const ROW = KAPPA / 8;
/** Bytes per column for `count` payload rows (a multiple of 8) plus the padding. */
const colBytes = (count: number): number => (count + PAD) / 8;

export type OtExtSenderSetup = { delta: Uint8Array; seeds: Uint8Array[] };
export type OtExtReceiverSetup = { seeds0: Uint8Array[]; seeds1: Uint8Array[] };
/** u: base64 of the KAPPA × ROWS bit matrix; x̃, t̃: 16-byte hex field elements. */
export type OtExtMessage = { u: string; x: string; t: string };

/** The receiver's state until the sender's reply: its rows t_j and choice bits (first XI). */
export type OtExtReceiverState = { rows: Uint8Array; choices: Uint8Array };

const prg = (seed: Uint8Array, nonce: Uint8Array, column: number, count: number): Uint8Array => tagged('ote/prg', [nonce, column, seed], colBytes(count));

function xorInto(dst: Uint8Array, src: Uint8Array, offset = 0, mask = 0xff): void {
  for (let i = 0; i < src.length; i++) dst[offset + i]! ^= src[i]! & mask;
}

/** 0xff when bit i of `b` is set, else 0: to add secret-selected rows without a branch. */
const maskOf = (b: Uint8Array, i: number): number => -bitAt(b, i) & 0xff;

// Columns (KAPPA × total bits, column-major) to rows (total × KAPPA bits, row-major).
function transpose(columns: Uint8Array, total: number): Uint8Array {
  const col = total / 8;
  const rows = new Uint8Array(total * ROW);
  for (let i = 0; i < KAPPA; i++) {
    const bit = 1 << (i & 7);
    const byte = i >> 3;
    for (let j = 0; j < total; j++) if ((columns[i * col + (j >> 3)]! >> (j & 7)) & 1) rows[j * ROW + byte]! |= bit;
  }
  return rows;
}

const challenges = (nonce: Uint8Array, u: Uint8Array, total: number): Uint8Array => tagged('ote/chi', [nonce, u], total * ROW);

/** Receiver: extends its setup for `count` chosen bits (packed, count/8 bytes; XI for a multiplication). */
export function oteReceive(setup: OtExtReceiverSetup, nonce: Uint8Array, choices: Uint8Array, rng: Rng, count = XI): { message: OtExtMessage; state: OtExtReceiverState } {
  const col = colBytes(count);
  const total = count + PAD;
  const x = new Uint8Array(col);
  x.set(choices.subarray(0, count / 8));
  x.set(rng(PAD / 8), count / 8);
  const tCols = new Uint8Array(KAPPA * col);
  const u = new Uint8Array(KAPPA * col);
  for (let i = 0; i < KAPPA; i++) {
    const t = prg(setup.seeds0[i]!, nonce, i, count);
    tCols.set(t, i * col);
    u.set(t, i * col);
    xorInto(u, prg(setup.seeds1[i]!, nonce, i, count), i * col);
    xorInto(u, x, i * col);
  }
  const rows = transpose(tCols, total);
  const chi = challenges(nonce, u, total);
  const xt = new Uint8Array(ROW);
  for (let j = 0; j < total; j++) xorInto(xt, chi.subarray(j * ROW, j * ROW + ROW), 0, maskOf(x, j));
  const tt = gfDot(chi, rows, total);
  x.fill(0, count / 8);
  return { message: { u: toB64(u), x: hex(xt), t: hex(fromBig(tt)) }, state: { rows: rows.slice(0, count * ROW), choices: x.slice(0, count / 8) } };
}

/** Sender: checks the receiver's message (KOS consistency check) and returns its rows q_j. */
export function oteSend(setup: OtExtSenderSetup, nonce: Uint8Array, value: unknown, onFail: Fail | Failures, count = XI): Uint8Array {
  const { malformed: fail, check } = failures(onFail);
  const col = colBytes(count);
  const total = count + PAD;
  const m = value as Partial<OtExtMessage> | null;
  const u = b64(m?.u, KAPPA * col, fail);
  const xt = toBig(bytes(m?.x, ROW, fail));
  const tt = toBig(bytes(m?.t, ROW, fail));
  const qCols = new Uint8Array(KAPPA * col);
  for (let i = 0; i < KAPPA; i++) {
    qCols.set(prg(setup.seeds[i]!, nonce, i, count), i * col);
    xorInto(qCols, u.subarray(i * col, i * col + col), i * col, maskOf(setup.delta, i));
  }
  const rows = transpose(qCols, total);
  const qt = gfDot(challenges(nonce, u, total), rows, total);
  if (qt !== (tt ^ gfMul(xt, toBig(setup.delta)))) throw check('OT extension consistency check failed');
  return rows.slice(0, count * ROW);
}

/** Random OT j as a 32-byte seed (for bootstrapping the reverse direction's setup, setup.ts). */
export function seedPad(nonce: Uint8Array, j: number, rows: Uint8Array, delta?: Uint8Array): Uint8Array {
  const row = rows.slice(j * ROW, j * ROW + ROW);
  if (delta) xorInto(row, delta);
  return tagged('ote/seed', [nonce, j, row], 32);
}

/** Random-OT messages of row j, `width` scalars each (a correlation-robust hash of the row). */
export function pad(nonce: Uint8Array, j: number, rows: Uint8Array, width: number, delta?: Uint8Array): bigint[] {
  return padder(nonce, width)(j, rows, delta);
}

// The same hash as `pad`, with the nonce absorbed once for all rows of a run.
function padder(nonce: Uint8Array, width: number): (j: number, rows: Uint8Array, delta?: Uint8Array) => bigint[] {
  const h = taggedWith('ote/pad', [nonce]);
  return (j, rows, delta) => {
    const row = rows.slice(j * ROW, j * ROW + ROW);
    if (delta) xorInto(row, delta);
    return toScalars(h([j, row], 48 * width), width);
  };
}

/**
 * Correlated OT over Zq with one correlation α (forced reuse, DKLs23 §5): the sender's outputs
 * z_j and the receiver's z'_j satisfy z_j + z'_j = x_j·α, componentwise. τ is sent to the receiver.
 */
export function cotSend(nonce: Uint8Array, rows: Uint8Array, delta: Uint8Array, alpha: readonly bigint[]): { z: bigint[][]; tau: bigint[] } {
  const w = alpha.length;
  const z: bigint[][] = [];
  const tau: bigint[] = [];
  const hash = padder(nonce, w);
  for (let j = 0; j < XI; j++) {
    const v0 = hash(j, rows);
    const v1 = hash(j, rows, delta);
    z.push(v0);
    for (let k = 0; k < w; k++) tau.push(Fn.add(Fn.sub(v1[k]!, v0[k]!), alpha[k]!));
  }
  return { z, tau };
}

export function cotReceive(nonce: Uint8Array, state: OtExtReceiverState, tau: readonly bigint[], width: number): bigint[][] {
  const z: bigint[][] = [];
  const hash = padder(nonce, width);
  for (let j = 0; j < XI; j++) {
    const v = hash(j, state.rows);
    const x = BigInt(bitAt(state.choices, j));
    z.push(v.map((vk, k) => Fn.sub(Fn.mul(x, tau[j * width + k]!), vk)));
  }
  return z;
}
