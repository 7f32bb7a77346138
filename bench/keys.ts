import { closeSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519_FROST, ed25519 } from '@noble/curves/ed25519.js';
import { sha256Hex } from '../src/base/canonical.js';
import { loadState } from '../src/audit/state.js';
import { addressesOf, sessionIdOf } from '../src/engine/index.js';
import { buildPublicPackage, idHex } from '../src/engine/share.js';
import { SUITES, type GroupPoint } from '../src/engine/suite.js';
import { ceremonyFiles, lineDigest } from '../src/evidence/chain.js';
import { Workspace } from '../src/fs/workspace.js';
import { keyRecordBytes, writeCaches } from '../src/state/cache.js';
import type { KeyRecord } from '../src/state/key-record.js';
import { loadFixtureKeys, readChain, readLines, signLine, type ChainEntry } from '../fixtures/chain-tools.js';
import { keygen, lifecycleWorkspace } from '../test/support/lifecycle.js';
import { FAST, type TestWorkspace } from '../test/support/workspace.js';
import { BIN } from '../test/support/cli.js';
import { ms, notBuilt, paired, QUICK, row, runChild, type Figure, type Row } from './table.js';

// `key list` with 1,000 and 10,000 keys in one workspace. What it reads is the fold of the
// transcript (from the verified-state memo: a sha256 pass over every transcript and the folded
// state) and the keys/<keyId>.json caches it checks against the fold. Making 10,000 keys by DKG
// would take hours, so the workspace gets one real `keygen` ceremony and then that ceremony
// again for each further key: the same entries, each signed afresh by the same people and
// nodes with their real keys (fixtures/chain-tools.ts, as the audit tests rewrite chains), with
// a new ceremony id, session id and key from noble's trusted dealer in place of the DKG's. The
// fold checks every such key record as it checks a real one (its public package, addresses and
// party assignment); only how the key material was made differs, which `key list` never sees.
// Caches are written by the product's own writeCaches. The floor: a node process that reads
// and parses every keys/*.json cache with no verification. Targets (issue 13): linear in the
// number of keys, and under a second at 10,000.

const SUITE = SUITES.ed25519!;
const LINEAR = 1.5;

interface Template {
  entries: ChainEntry[];
  record: KeyRecord;
  sessionId: string;
  ceremony: string;
}

function templateOf(chain: ChainEntry[], ceremony: string): Template {
  const entries = chain.filter((e) => e.ceremony === ceremony);
  const result = entries.find((e) => e.statement.predicate.step === 'keygen.result')!;
  return { entries, ceremony, record: result.statement.predicate.result.record as KeyRecord, sessionId: result.statement.predicate.params.sessionId as string };
}

/** A fresh key's record in the template's shape: noble's trusted dealer in place of the DKG. */
function dealtRecord(t: Template, label: string): KeyRecord {
  const parties = t.record.publicPackage.parties;
  const dealt = ed25519_FROST.trustedDealer({ min: t.record.threshold, max: parties.length });
  const point = (b: Uint8Array) => ed25519.Point.fromBytes(b) as unknown as GroupPoint;
  const verifyingShares = Object.fromEntries(parties.map((p) => [p, point(dealt.public.verifyingShares[idHex(SUITE, parties, p)]!)]));
  const pkg = buildPublicPackage(SUITE, { epoch: 1, groupKey: point(dealt.public.commitments[0]!), verifyingShares, threshold: t.record.threshold, parties });
  return { ...t.record, keyId: pkg.keyId, label, publicKey: pkg.groupPublicKey, publicPackage: pkg, addresses: addressesOf('ed25519', pkg.groupPublicKey) };
}

/** The template ceremony again as ceremony `id`, for a new key: every key-bound field replaced. */
function copyOf(t: Template, id: string, label: string): ChainEntry[] {
  const record = dealtRecord(t, label);
  const params = t.entries[0]!.statement.predicate.params;
  const sessionId = sessionIdOf({ engine: 'ed25519', keyId: 'new', epoch: 0, participants: record.publicPackage.parties, t: record.threshold, n: record.parties.length, ceremonyId: id, rosterDigest: t.entries[0]!.statement.predicate.roster });
  const swaps: [string, string][] = [
    [t.ceremony, id], [t.sessionId, sessionId], [t.record.keyId, record.keyId], [t.record.publicKey, record.publicKey], [JSON.stringify(t.record.label), JSON.stringify(label)],
    [sha256Hex(keyRecordBytes(t.record)), sha256Hex(keyRecordBytes(record))],
    ...Object.entries(t.record.addresses).map(([k, v]): [string, string] => [v, record.addresses[k]!]),
    ...record.publicPackage.parties.map((p): [string, string] => [t.record.publicPackage.verifyingShares[p]!, record.publicPackage.verifyingShares[p]!]),
  ];
  if (params.label !== t.record.label) throw new Error('template: the label is not where expected');
  return t.entries.map((e) => {
    let text = JSON.stringify(e.statement);
    for (const [from, to] of swaps) text = text.split(from).join(to);
    return { ceremony: id, statement: JSON.parse(text), signers: e.signers };
  });
}

/** Appends `count` copies of the template after the workspace's last entry, chained and signed. */
function append(root: string, t: Template, count: number): void {
  const dir = join(root, 'transcripts');
  const files = ceremonyFiles(dir);
  const last = readLines(files[files.length - 1]!);
  let prev = lineDigest(last[last.length - 1]!);
  let next = files.length + 1;
  for (let i = 0; i < count; i++, next++) {
    const id = `${String(next).padStart(6, '0')}-keygen`;
    const lines = copyOf(t, id, `bench-${next}`).map((e, seq) => {
      const s = e.statement;
      s.predicate.seq = seq;
      s.predicate.prev = prev;
      const line = signLine(s, e.signers);
      prev = lineDigest(line);
      return line;
    });
    const fd = openSync(join(dir, `${id}.jsonl`), 'wx');
    writeSync(fd, lines.map((l) => l + '\n').join(''));
    closeSync(fd);
  }
}

// The floor: read and parse every cached key record, nothing checked.
const READ_CACHES = `const fs=require('fs'),p=require('path');const d=process.argv[1];let n=0;for(const f of fs.readdirSync(d))n+=JSON.parse(fs.readFileSync(p.join(d,f),'utf8')).keyId?1:0;if(!n)process.exit(1)`;

async function measure(tw: TestWorkspace, n: number, runs: number): Promise<[number, number]> {
  const ws = new Workspace(tw.root);
  writeCaches(ws, await loadState(ws)); // as the kernel does after every ceremony
  const list = () => runChild(process.execPath, [BIN, '--workspace', tw.root, FAST, 'key', 'list', '--json'], { env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
  // The first load checks every signature and leaves the memo; every key must be listed.
  const listed = (JSON.parse(list()) as { keys: unknown[] }).keys.length;
  if (listed !== n) throw new Error(`key list lists ${listed} keys, not ${n}`);
  return paired(runs, list, () => runChild(process.execPath, ['-e', READ_CACHES, ws.keysDir]));
}

export async function rows(): Promise<Row[]> {
  const sizes = QUICK ? [100, 1_000] : [1_000, 10_000];
  const runs = 3;
  const tw = await lifecycleWorkspace();
  try {
    return await measured(tw, sizes, runs);
  } finally {
    rmSync(tw.base, { recursive: true, force: true });
  }
}

async function measured(tw: TestWorkspace, sizes: number[], runs: number): Promise<Row[]> {
  const k = await keygen(tw, 'ed25519', []);
  const t = templateOf(readChain(tw.root, await loadFixtureKeys(tw.root, tw.secretsDir)), k.ceremony);
  const out: Row[] = [];
  const figures: { n: number; ms: number; floor: number }[] = [];
  const floorOf = (value: number) => ({ ...ms(value), what: 'read + parse every keys/*.json' });
  for (const n of sizes) {
    append(tw.root, t, n - readdirSync(join(tw.root, 'keys')).length);
    const [list, floor] = await measure(tw, n, runs);
    figures.push({ n, ms: list, floor });
    out.push(row(`key list, ${n.toLocaleString('en')} keys`, ms(list), floorOf(floor), null, 'lower', `median of ${runs} processes, memo warm`));
  }
  const small = figures[0]!;
  const big = figures[figures.length - 1]!;
  const growth: Figure = { value: big.ms / small.ms, unit: '×' };
  out.push(row(`key list growth, ${big.n.toLocaleString('en')} / ${small.n.toLocaleString('en')} keys`, growth, { value: big.n / small.n, unit: '×', what: 'growth in keys (linear)' }, LINEAR, 'lower', 'at most linear: time grows no faster than the number of keys'));
  out.push(row(`key list, ${big.n.toLocaleString('en')} keys, within 1 s`, ms(big.ms), { ...ms(1000), what: 'the 1 s bound of issue 13, not a measurement' }, 1, 'lower'));
  out.push(notBuilt('status', floorOf(big.floor), 'keyrite has no `status` command yet; no figure is given for it'));
  return out;
}
