import assert from 'node:assert/strict';
import { KeyriteError } from '../../src/base/errors.js';

// Shared by the property tests: how many cases each property runs, and what counts as a clean
// refusal of untrusted input.

/**
 * Runs per property: `base` by default, so `npm test` stays quick; KEYRITE_FUZZ_RUNS=N raises
 * every property to at least N for a longer search. A value that is not a positive integer is
 * an error, not a silent default.
 */
export function fuzzRuns(base: number): number {
  const raw = process.env.KEYRITE_FUZZ_RUNS;
  if (raw === undefined || raw === '') return base;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`KEYRITE_FUZZ_RUNS must be a positive integer, got "${raw}"`);
  return Math.max(base, n);
}

/**
 * A parser refused its input the way callers rely on: a KeyriteError (never INTERNAL) or a plain
 * Error, with a message. A TypeError, RangeError or anything else thrown is a crash in the
 * parser, not a refusal.
 */
export function assertRefusal(e: unknown, what: string): void {
  if (e instanceof KeyriteError) {
    assert.notEqual(e.code, 'INTERNAL', `${what}: INTERNAL (${e.message})`);
  } else {
    assert.ok(e instanceof Error && Object.getPrototypeOf(e) === Error.prototype, `${what}: crashed with ${(e as Error)?.constructor?.name ?? typeof e}: ${String((e as Error)?.message ?? e)}`);
  }
  assert.ok(typeof e.message === 'string' && e.message.trim().length > 0, `${what}: an error without a message`);
}
