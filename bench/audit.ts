import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Workspace } from '../src/fs/workspace.js';
import { newIdentity, publicOf, type Identity } from '../src/custody/identity.js';
import { lineDigest } from '../src/evidence/chain.js';
import { enrol, newRoster, rosterDigest } from '../src/state/roster.js';
import { CustodyState } from '../src/state/fold.js';
import { loadScript } from '../src/evidence/script.js';
import { makeStatement } from '../src/evidence/statement.js';
import { toolInfo } from '../src/evidence/tool.js';
import { Ceremony } from '../src/evidence/writer.js';
import { signLine } from '../fixtures/chain-tools.js';
import { foldRow } from './fold.js';
import { perSecond, QUICK, row, runChild, type Row } from './table.js';

// audit verify throughput at 1k, 10k and 100k entries, and its peak memory (maxRSS of a child
// process doing only the verification, bench/verify-child.ts), beside the raw node:crypto Ed25519
// verify rate of the same number of signatures, measured in the same run. Entries are
// one-signature drill results in ceremonies of 100 lines, the common shape of a long-lived
// workspace. Targets (issue 13): ≥ 70% of the raw rate; memory flat (here: peak RSS at the
// largest size within 1.5× of that at 1k). The largest workspace also serves the fold row.

const TARGET = 0.7;
const FLAT = 1.5;

const PER_CEREMONY = 100;

export async function workspace(entries: number): Promise<string> {
  const ws = new Workspace(mkdtempSync(join(tmpdir(), 'keyrite-bench-')));
  const gen = await newIdentity('gen', 'generator');
  const roster = newRoster({ threshold: 2, parties: 3, guardianThreshold: 2, guardians: 3, approvals: 2 });
  enrol(roster, publicOf(gen));
  const c = await Ceremony.start(ws, { script: 'init', actor: gen, state: new CustodyState(), genesis: roster });
  const { head } = await c.seal([gen]);
  writeBulk(ws, gen, entries - 2, head, rosterDigest(roster));
  return ws.root;
}

/** Appends drill ceremonies below the writer (no fsync per line): the bench measures reading. */
function writeBulk(ws: Workspace, gen: Identity, entries: number, head: string, roster: string): void {
  const script = loadScript('shard-check').digest;
  const tool = toolInfo();
  let prev = head;
  for (let n = 0; n * PER_CEREMONY < entries; n++) {
    const id = `${String(n + 2).padStart(6, '0')}-shard-check`;
    const fd = openSync(join(ws.transcriptsDir, `${id}.jsonl`), 'w');
    const count = Math.min(PER_CEREMONY, entries - n * PER_CEREMONY);
    const chunks: string[] = [];
    for (let seq = 0; seq < count; seq++) {
      const step = seq === 0 ? 'ceremony.start' : seq === count - 1 ? 'ceremony.seal' : 'drill.result';
      const params = step === 'drill.result' ? { keyId: 'kbench', custodian: 'gen' } : {};
      const time = new Date().toISOString();
      const s = makeStatement([], { ceremony: id, seq, prev, step, actor: 'gen', roster, script, tool, params, result: {}, time });
      const line = signLine(s, [gen]);
      prev = lineDigest(line);
      chunks.push(line, '\n');
    }
    writeSync(fd, chunks.join(''));
    closeSync(fd);
  }
}

interface ChildFigures {
  entries: number;
  ms: number;
  maxRssKiB: number;
}

const CHILD = fileURLToPath(new URL('./verify-child.ts', import.meta.url));

function child(mode: 'keyrite' | 'raw', arg: string): ChildFigures {
  return JSON.parse(runChild(process.execPath, ['--import', 'tsx', CHILD, mode, arg]).trim()) as ChildFigures;
}

const rate = (f: ChildFigures): number => (1000 * f.entries) / f.ms;
const mib = (kib: number) => ({ value: kib / 1024, unit: 'MiB' });

export async function rows(): Promise<Row[]> {
  const sizes = QUICK ? [1_000, 10_000] : [1_000, 10_000, 100_000];
  const out: Row[] = [];
  const peaks: { n: number; kib: number }[] = [];
  for (const n of sizes) {
    const root = await workspace(n);
    try {
      // The raw rate right before and after the verifier's run, averaged: like with like on a busy machine.
      const before = child('raw', String(n));
      const k = child('keyrite', root);
      const after = child('raw', String(n));
      const raw = (rate(before) + rate(after)) / 2;
      peaks.push({ n, kib: k.maxRssKiB });
      out.push(row(`audit verify, ${n.toLocaleString('en')} entries`, perSecond(rate(k)), { ...perSecond(raw), what: 'node:crypto Ed25519 verify, same count' }, TARGET, 'higher',
        `peak RSS ${mib(k.maxRssKiB).value.toFixed(0)} MiB (raw verify child ${mib(after.maxRssKiB).value.toFixed(0)} MiB)`));
      if (n === sizes[sizes.length - 1]) out.push(await foldRow(root, n));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  const small = peaks[0]!;
  const big = peaks[peaks.length - 1]!;
  out.push(row(`audit verify peak RSS, ${big.n.toLocaleString('en')} vs ${small.n.toLocaleString('en')} entries`, mib(big.kib), { ...mib(small.kib), what: `same verifier, ${small.n.toLocaleString('en')} entries` }, FLAT, 'lower',
    'maxRSS of the verifying child process; flat memory keeps the ratio near 1'));
  return out;
}
