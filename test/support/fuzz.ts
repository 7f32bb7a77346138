import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isErrorCode, KeyriteError } from '../../src/base/errors.js';

// Shared by the property tests: how many cases each property runs, what counts as a clean
// refusal of untrusted input, and the untrusted inputs themselves — random values, and real
// values damaged one node, one character or one byte at a time.

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

// A failing property reports the error its counterexample threw, not only the counterexample.
fc.configureGlobal({ ...fc.readConfigureGlobal(), includeErrorInReport: true });

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

/**
 * The stricter refusal of a command-level input (a file from disk, a network message): what the
 * CLI and a node turn into an exit status or an HTTP answer. Only a KeyriteError with a code of
 * the errors table (src/base/errors.ts), never INTERNAL, with a message; a plain Error here
 * would reach the user as INTERNAL. `codes`, when given, is the set the refusal must be in.
 */
export function assertCleanError(e: unknown, what: string, codes?: readonly string[]): KeyriteError {
  assert.ok(e instanceof KeyriteError, `${what}: threw ${(e as Error)?.constructor?.name ?? typeof e}, not a KeyriteError: ${String((e as Error)?.message ?? e)} (${thrownAt(e)})`);
  assert.ok(isErrorCode(e.code), `${what}: unknown code ${e.code}`);
  assert.notEqual(e.code, 'INTERNAL', `${what}: INTERNAL (${e.message})`);
  assert.ok(e.message.trim().length > 0, `${what}: an error without a message`);
  if (codes) assert.ok(codes.includes(e.code), `${what}: ${e.code} (${e.message}), expected one of ${codes.join(', ')}`);
  return e;
}

/** The first frame of keyrite's own code in an error's stack: where a crash happened. */
function thrownAt(e: unknown): string {
  const frames = String((e as Error)?.stack ?? '').split('\n');
  return (frames.find((l) => l.includes('/src/')) ?? frames[1] ?? 'no stack').trim();
}

// One call taking longer than this is a failure: a hang, or close to one. Generous, because the
// tests share two cores with other suites; the parsers answer in milliseconds.
const SLOW_MS = 5000;

/** Calls `fn`; a refusal must pass `check`; returns the value when it succeeded, else the error. */
export async function attempt<T>(what: string, fn: () => T | Promise<T>, check: (e: unknown, what: string) => unknown = assertRefusal, slowMs = SLOW_MS): Promise<{ value: T } | { error: unknown }> {
  const started = performance.now();
  try {
    return { value: await fn() };
  } catch (e) {
    check(e, what);
    return { error: e };
  } finally {
    const ms = performance.now() - started;
    assert.ok(ms < slowMs, `${what} took ${Math.round(ms)} ms`);
  }
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a node of a JSON value (the root included). */
export function pathsOf(v: Json, at: (string | number)[] = []): (string | number)[][] {
  const children = Array.isArray(v) ? v.map((x, i) => pathsOf(x, [...at, i])) : v !== null && typeof v === 'object' ? Object.entries(v).map(([k, x]) => pathsOf(x, [...at, k])) : [];
  return [at, ...children.flat()];
}

/** `v` with the node at `path` replaced by `by`, or removed when `by` is undefined. */
export function replaced(v: Json, path: (string | number)[], by: Json | undefined): Json | undefined {
  if (path.length === 0) return by;
  const copy = structuredClone(v) as Record<string | number, Json>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, Json>;
  const last = path.at(-1)!;
  if (by !== undefined) node[last] = by;
  else if (Array.isArray(node)) node.splice(Number(last), 1);
  else delete node[last];
  return copy;
}

// Keys and values a hand-made file holds and random JSON rarely does: names every object
// inherits (a template string calls toString), numbers at the edges, strings that look right.
const TRICKY_KEYS = ['toString', 'valueOf', '__proto__', 'constructor', 'hasOwnProperty', 'length', 'then'];
const trickyValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, '', ' ', '*', 'x'.repeat(300), '\u0000', '00'.repeat(32), '[object Object]', []),
  fc.dictionary(fc.constantFrom(...TRICKY_KEYS), fc.constantFrom<Json>(1, 'x', null, {}, []), { noNullPrototype: true }) as fc.Arbitrary<Json>,
);

/** Random JSON, with hostile keys and edge values mixed in. */
export const anyJson: fc.Arbitrary<Json> = fc.oneof({ weight: 3, arbitrary: fc.jsonValue() as fc.Arbitrary<Json> }, { weight: 1, arbitrary: trickyValue });

/** One real value with one of its nodes replaced by random or hostile JSON, or removed. */
export const mutatedJson = (reals: Json[]): fc.Arbitrary<Json | undefined> =>
  fc.record({ real: fc.constantFrom(...reals), at: fc.nat(), by: fc.option(anyJson, { nil: undefined }) }).map(({ real, at, by }) => {
    const paths = pathsOf(real);
    return replaced(real, paths[at % paths.length]!, by);
  });

/** One real text with a character replaced, inserted or the text cut short. */
export const mutatedText = (reals: string[]): fc.Arbitrary<string> =>
  fc.record({ real: fc.constantFrom(...reals), at: fc.nat(), piece: fc.string({ unit: 'binary', maxLength: 3 }), how: fc.constantFrom('replace', 'insert', 'cut') }).map(({ real, at, piece, how }) => {
    const i = at % (real.length + 1);
    if (how === 'cut') return real.slice(0, i);
    return real.slice(0, i) + piece + real.slice(how === 'replace' ? i + 1 : i);
  });

/** Random input for a parser that takes text: anything, any JSON, a real text damaged, a real JSON value damaged. */
export const untrustedText = (reals: string[]): fc.Arbitrary<string> =>
  fc.oneof(fc.string({ unit: 'binary' }), fc.json(), mutatedText(reals), mutatedJson(reals.map((r) => JSON.parse(r) as Json)).map((v) => JSON.stringify(v) ?? ''));

/** One real file with a byte flipped, bytes inserted or removed, or the file cut short. */
export const mutatedBytes = (reals: Uint8Array[]): fc.Arbitrary<Buffer> =>
  fc.record({ real: fc.constantFrom(...reals), at: fc.nat(), piece: fc.uint8Array({ minLength: 1, maxLength: 4 }), how: fc.constantFrom('flip', 'insert', 'delete', 'cut') }).map(({ real, at, piece, how }) => {
    const b = Buffer.from(real);
    const i = at % (b.length + 1);
    if (how === 'cut') return b.subarray(0, i);
    if (how === 'flip' && i < b.length) return Buffer.concat([b.subarray(0, i), Buffer.from([b[i]! ^ (piece[0]! || 1)]), b.subarray(i + 1)]);
    if (how === 'delete') return Buffer.concat([b.subarray(0, i), b.subarray(i + piece.length)]);
    return Buffer.concat([b.subarray(0, i), Buffer.from(piece), b.subarray(i)]);
  });

/** Random bytes for a file: anything, or a real file damaged. */
export const untrustedBytes = (reals: Uint8Array[]): fc.Arbitrary<Buffer> => fc.oneof(fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)), mutatedBytes(reals));
