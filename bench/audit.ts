import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Workspace } from '../src/fs/workspace.js';
import { newIdentity, publicOf, type Identity } from '../src/custody/identity.js';
import { ceremonyFiles, lineDigest } from '../src/evidence/chain.js';
import { enrol, newRoster, rosterDigest } from '../src/state/roster.js';
import { CustodyState } from '../src/state/fold.js';
import { loadScript } from '../src/evidence/script.js';
import { makeStatement } from '../src/evidence/statement.js';
import { toolInfo } from '../src/evidence/tool.js';
import { verifyTranscripts } from '../src/audit/verify.js';
import { Ceremony } from '../src/evidence/writer.js';
import { signLine } from '../fixtures/chain-tools.js';

// audit verify throughput at 1k, 10k and 100k entries, and peak memory while verifying, beside
// the raw node:crypto Ed25519 verify rate measured in the same run. Entries are one-signature
// drill results in ceremonies of 100 lines, the common shape of a long-lived workspace.

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

/** Raw node:crypto Ed25519 verifies per second on a message the size of one entry's PAE. */
function rawVerifyRate(runs: number): number {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const message = randomBytes(1200);
  const sig = sign(null, message, privateKey);
  for (let i = 0; i < 200; i++) verify(null, message, publicKey, sig);
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) verify(null, message, publicKey, sig);
  return runs / ((performance.now() - t0) / 1000);
}

interface Measured {
  rate: number;
  entries: number;
  startRss: number;
  peakRss: number;
  peakHeap: number;
}

async function measure(root: string): Promise<Measured> {
  const files = ceremonyFiles(join(root, 'transcripts'));
  const startRss = process.memoryUsage().rss;
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 20);
  const t0 = performance.now();
  const r = await verifyTranscripts({ files, root });
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  sample();
  if (!r.ok) throw new Error(`bench transcript does not verify: ${JSON.stringify(r.failures.slice(0, 3))}`);
  return { rate: r.entries / seconds, entries: r.entries, startRss, peakRss, peakHeap };
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

export async function run(): Promise<void> {
  // Other work on the machine moves both numbers; the raw rate is measured right before and
  // after each verify run and averaged, so the ratio compares like with like.
  for (const n of [1_000, 10_000, 100_000]) {
    const root = await workspace(n);
    await measure(root); // warm-up: JIT, script loading, page cache
    const before = rawVerifyRate(Math.min(n, 10_000));
    const m = await measure(root);
    const raw = (before + rawVerifyRate(Math.min(n, 10_000))) / 2;
    console.log(
      `audit verify ${m.entries.toLocaleString('en')} entries: ${m.rate.toFixed(0)} entries/s; raw Ed25519 verify ${raw.toFixed(0)}/s ` +
        `(${((100 * m.rate) / raw).toFixed(0)}%); rss ${mib(m.startRss)} before, peak ${mib(m.peakRss)} during; peak heap ${mib(m.peakHeap)}`,
    );
    rmSync(root, { recursive: true, force: true });
  }
}
