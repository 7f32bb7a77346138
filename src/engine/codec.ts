import { fromHex, hex } from '../base/canonical.js';
import type { GroupPoint, Suite } from './suite.js';

// Hex ⇄ points and scalars, validated: every point from outside must be on the curve, in the
// prime-order subgroup and not the identity; every scalar canonical (< group order).
// `fail` turns a reason into the caller's error, so the right party gets blamed.

export type Fail = (why: string) => Error;

export function decodePoint(suite: Suite, value: unknown, fail: Fail): GroupPoint {
  if (typeof value !== 'string' || value.length !== 2 * suite.pointBytes) throw fail(`not a ${suite.pointBytes}-byte point`);
  try {
    const p = suite.Point.fromBytes(fromHex(value, 'point'));
    p.assertValidity();
    if (p.is0() || !p.isTorsionFree()) throw new Error('identity or small-order point');
    return p;
  } catch {
    throw fail('not a valid group element');
  }
}

export function decodePoints(suite: Suite, value: unknown, count: number, fail: Fail): GroupPoint[] {
  if (!Array.isArray(value) || value.length !== count) throw fail(`expected ${count} points`);
  return value.map((v) => decodePoint(suite, v, fail));
}

export function decodeScalar(suite: Suite, value: unknown, fail: Fail): bigint {
  if (typeof value !== 'string' || value.length !== 2 * suite.Fn.BYTES) throw fail(`not a ${suite.Fn.BYTES}-byte scalar`);
  try {
    return suite.Fn.fromBytes(fromHex(value, 'scalar'));
  } catch {
    throw fail('scalar out of range');
  }
}

export function decodeGroupKey(suite: Suite, value: unknown, fail: Fail): GroupPoint {
  try {
    if (typeof value !== 'string') throw new Error();
    const p = suite.decodeGroupKey(fromHex(value, 'group key'));
    p.assertValidity();
    if (p.is0() || !p.isTorsionFree()) throw new Error();
    return p;
  } catch {
    throw fail('not a valid group public key');
  }
}

export const encodePoint = (p: GroupPoint): string => hex(p.toBytes());
export const encodeScalar = (suite: Suite, s: bigint): string => hex(suite.Fn.toBytes(s));
export const encodeGroupKey = (suite: Suite, p: GroupPoint): string => hex(suite.encodeGroupKey(p));
