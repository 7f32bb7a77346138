import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printTable, QUICK, type Row } from './table.js';
import { disposeBenchWorkspace } from './workspace.js';

// npm run bench (issue 13): one table, every keyrite figure beside its floor measured in the same
// run, and bench/results.json. Speed targets live here, never in timed tests. BENCH_QUICK=1 runs
// smaller sizes; `node --import tsx bench/run.ts engine audit` runs only the modules named and
// replaces their rows in bench/results.json, keeping the other modules' rows of the last run.

const MODULES = ['cold', 'unlock', 'engine', 'cli-sign', 'audit', 'keys', 'guardian', 'serve', 'load'];

const chosen = process.argv.slice(2).length ? process.argv.slice(2) : MODULES;
interface Run {
  date: string;
  node: string;
  machine: object;
  quick: boolean;
  modules: string[];
  rows: Row[];
}

const rows: Row[] = [];
for (const m of chosen) {
  const started = Date.now();
  const { rows: measure } = (await import(`./${m}.ts`)) as { rows: () => Promise<Row[]> };
  const got = await measure();
  rows.push(...got);
  console.error(`bench ${m}: ${got.length} rows in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

await disposeBenchWorkspace();
printTable(rows);
const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${process.platform} ${process.arch}` };
const out = fileURLToPath(new URL('./results.json', import.meta.url));
const kept = chosen === MODULES || !existsSync(out) ? [] : (JSON.parse(readFileSync(out, 'utf8')) as { runs?: Run[] }).runs ?? [];
const run: Run = { date: new Date().toISOString(), node: process.version, machine, quick: QUICK, modules: chosen, rows };
const runs = [...kept.filter((r) => !r.modules.every((m) => chosen.includes(m))), run];
const results = { v: 2, runs };
writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
console.log(`\nWrote ${out}`);
