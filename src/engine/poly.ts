import { randomBytes } from 'node:crypto';
import type { GroupPoint, Suite } from './suite.js';
import type { Rng } from './types.js';

// Shamir/Feldman helpers on noble's scalar field Fn and Point, used by refresh and reshare.
// A polynomial is its coefficient list, constant term first.

export const defaultRng: Rng = (n = 32) => Uint8Array.from(randomBytes(n));

export function randomScalar(suite: Suite, rng: Rng = defaultRng): bigint {
  return suite.Fn.fromBytes(suite.frost.utils.randomScalar(rng));
}

/** `constant` followed by `degree` random coefficients. */
export function randomPolynomial(suite: Suite, constant: bigint, degree: number, rng?: Rng): bigint[] {
  const coefficients = [constant];
  for (let i = 0; i < degree; i++) coefficients.push(randomScalar(suite, rng));
  return coefficients;
}

export function evaluate(suite: Suite, coefficients: readonly bigint[], x: bigint): bigint {
  const { Fn } = suite;
  let acc = Fn.ZERO;
  for (let k = coefficients.length - 1; k >= 0; k--) acc = Fn.add(Fn.mul(acc, x), coefficients[k]!);
  return acc;
}

/** Feldman commitment: coefficient·G for each coefficient. */
export function commit(suite: Suite, coefficients: readonly bigint[]): GroupPoint[] {
  return coefficients.map((c) => suite.Point.BASE.multiply(c));
}

/** Σ C_k·x^k: what `evaluate` gives, times G, computed from the public commitment only. */
export function evaluateCommitment(commitment: readonly GroupPoint[], x: bigint): GroupPoint {
  let acc = commitment[commitment.length - 1]!;
  for (let k = commitment.length - 2; k >= 0; k--) acc = acc.multiply(x).add(commitment[k]!);
  return acc;
}

/** Lagrange coefficient at 0 of `x` within the distinct, non-zero set `xs`. */
export function lagrangeAtZero(suite: Suite, xs: readonly bigint[], x: bigint): bigint {
  const { Fn } = suite;
  let num = Fn.ONE;
  let den = Fn.ONE;
  for (const xj of xs) {
    if (xj === x) continue;
    num = Fn.mul(num, xj);
    den = Fn.mul(den, Fn.sub(xj, x));
  }
  return Fn.div(num, den);
}

export function wipeScalars(values: bigint[]): void {
  values.fill(0n);
}
