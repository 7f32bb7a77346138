import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

// One row of the bench table (issue 13): keyrite's figure beside its floor, measured in the same
// run, and their ratio against the target. Times are milliseconds, rates per second; a row's
// `better` says which way the ratio should go. The machine is shared and noisy, so the ratio is
// the figure that counts; absolute values are a sample of this run only.

export type Better = 'lower' | 'higher';

export interface Figure {
  value: number;
  unit: string;
}

export interface Row {
  name: string;
  keyrite: Figure | null; // null: not built
  floor: Figure & { what: string };
  ratio: number | null;
  /** ratio ≤ target (better lower) or ≥ target (better higher); null: the issue sets none. */
  target: number | null;
  better: Better;
  met: boolean | null;
  note?: string;
}

export const QUICK = process.env.BENCH_QUICK === '1';

export function row(name: string, keyrite: Figure, floor: Figure & { what: string }, target: number | null, better: Better = 'lower', note?: string): Row {
  const ratio = keyrite.value / floor.value;
  const met = target === null ? null : better === 'lower' ? ratio <= target : ratio >= target;
  return { name, keyrite, floor, ratio, target, better, met, ...(note ? { note } : {}) };
}

/** A row for what the issue asks for and keyrite does not have yet: no figure, never a made-up one. */
export function notBuilt(name: string, floor: Figure & { what: string }, note: string): Row {
  return { name, keyrite: null, floor, ratio: null, target: null, better: 'lower', met: null, note };
}

export const ms = (value: number): Figure => ({ value, unit: 'ms' });
export const perSecond = (value: number): Figure => ({ value, unit: '/s' });

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function timed<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

/**
 * Median wall time of `runs` runs of `a` and of `b`, interleaved (a, b, a, b, …) so that load
 * from other work on the machine falls on both alike.
 */
export async function paired(runs: number, a: () => Promise<unknown> | unknown, b: () => Promise<unknown> | unknown): Promise<[number, number]> {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < runs; i++) {
    ta.push((await timed(a))[0]);
    tb.push((await timed(b))[0]);
  }
  return [median(ta), median(tb)];
}

/** Runs a child process to completion; throws with its output when it fails. */
export function runChild(cmd: string, args: string[], o: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { input: o.input ?? '', env: o.env ?? process.env, cwd: o.cwd, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout.toString();
}

const num = (f: Figure | null): string => {
  if (f === null) return 'not built';
  const v = f.value;
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${f.unit}`;
};

const targetText = (r: Row): string => (r.target === null ? '—' : `${r.better === 'lower' ? '≤' : '≥'} ${r.target}×`);
const metText = (r: Row): string => (r.met === null ? '—' : r.met ? 'yes' : 'NO');

export function printTable(rows: Row[]): void {
  const cells = rows.map((r) => [r.name, num(r.keyrite), `${num(r.floor)} (${r.floor.what})`, r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`, targetText(r), metText(r)]);
  const head = ['row', 'keyrite', 'floor', 'ratio', 'target', 'met'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 || i === 2 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
  const notes = rows.filter((r) => r.note);
  if (notes.length) console.log('\nNotes:');
  for (const r of notes) console.log(`- ${r.name}: ${r.note}`);
}
