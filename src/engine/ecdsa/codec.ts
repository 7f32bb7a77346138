import { hex } from '../../base/canonical.js';
import { decodePoint, decodeScalar, type Fail } from '../codec.js';
import { asPoint, ecdsaSuite, Fn, type P } from './suite.js';
import { scalarBytes } from './hash.js';

// Untrusted message fields of the ecdsa engine, decoded with the caller's `fail` (which names the
// party to blame): points must be valid, non-identity secp256k1 points (33-byte compressed);
// scalars canonical (< n); byte strings exactly the expected length.

/** How to fail on a malformed field, and (separately) on a failed consistency check: only the latter bans. */
export type Failures = { malformed: Fail; check: Fail };
export const failures = (f: Fail | Failures): Failures => (typeof f === 'function' ? { malformed: f, check: f } : f);

export const point = (value: unknown, fail: Fail): P => asPoint(decodePoint(ecdsaSuite, value, fail));
export const scalar = (value: unknown, fail: Fail): bigint => decodeScalar(ecdsaSuite, value, fail);

export function scalars(value: unknown, count: number, fail: Fail): bigint[] {
  if (!Array.isArray(value) || value.length !== count) throw fail(`expected ${count} scalars`);
  return value.map((v) => scalar(v, fail));
}

export function bytes(value: unknown, length: number, fail: Fail): Uint8Array {
  if (typeof value !== 'string' || value.length !== 2 * length || !/^[0-9a-f]*$/.test(value)) throw fail(`not ${length} bytes of lowercase hex`);
  return new Uint8Array(Buffer.from(value, 'hex'));
}

/** Bulk fields (OT-extension matrices, τ) travel as canonical, padded base64: a third smaller than hex. */
export function b64(value: unknown, length: number, fail: Fail): Uint8Array {
  if (typeof value !== 'string' || value.length !== 4 * Math.ceil(length / 3)) throw fail(`not ${length} bytes of base64`);
  const b = Buffer.from(value, 'base64');
  if (b.length !== length || b.toString('base64') !== value) throw fail('not canonical base64');
  return new Uint8Array(b);
}

export const toB64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/** A run of `count` scalars packed as one base64 string of 32-byte big-endian values. */
export function packedScalars(value: unknown, count: number, fail: Fail): bigint[] {
  const b = b64(value, 32 * count, fail);
  const out: bigint[] = new Array(count);
  for (let i = 0; i < count; i++) {
    try {
      out[i] = Fn.fromBytes(b.subarray(32 * i, 32 * i + 32));
    } catch {
      throw fail('scalar out of range');
    }
  }
  return out;
}

export function packScalars(values: readonly bigint[]): string {
  const b = new Uint8Array(32 * values.length);
  values.forEach((v, i) => b.set(scalarBytes(v), 32 * i));
  return toB64(b);
}

export const encPoint = (p: P): string => hex(p.toBytes(true));
export const encScalar = (s: bigint): string => hex(scalarBytes(s));
