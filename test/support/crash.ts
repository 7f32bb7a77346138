import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadState } from '../../src/audit/state.js';
import { verifyTranscripts, type Interruption } from '../../src/audit/verify.js';
import { ceremonyFiles } from '../../src/evidence/chain.js';
import { shardRoleName } from '../../src/custody/shard.js';
import { Workspace } from '../../src/fs/workspace.js';
import type { CustodyState } from '../../src/state/fold.js';
import type { Run } from './cli.js';
import { readShard, shardFile, steps } from './lifecycle.js';
import { ok, refused, type TestWorkspace } from './workspace.js';

// Crash tests through the CLI (docs/ARCHITECTURE.md §8; README, "For tests only"): a command is
// run with KEYRITE_FAULT_AT set to one step boundary (src/base/fault.ts) and must die there by
// SIGKILL; the caller's invariants are checked on what it left; the job is finished (the same
// command, or the one that completes it); then `audit verify --json` must pass and name the
// crashed ceremony as interrupted. The boundaries are read from a successful run's transcript,
// so a step added to a ceremony is crashed at without editing any test. One workspace is built
// per command and copied for each boundary.

/** A place the process may die, and which time it is reached: the value of KEYRITE_FAULT_AT. */
export type Boundary = string;

/**
 * Boundaries that are not transcript entries, by the entry they precede: a shard is written
 * (src/ceremony/export.ts, exportOne) before its export.shard entry is recorded; in a rotation
 * (src/ceremony/rotate.ts) the new identity is written before the roster.change, each re-wrapped
 * shard before its rotate.shard, and the old files are moved aside (the new ones not yet in
 * place) before rotate.result. Only rotate records a roster.change among the table's commands.
 */
const BEFORE_ENTRY: Record<string, string> = { 'export.shard': 'shard-file', 'roster.change': 'identity-file', 'rotate.shard': 'shard-file', 'rotate.result': 'retired-files' };

/** Every boundary a run that recorded `recorded` (its steps, in order) passed, in order. */
export function boundariesOf(recorded: string[]): Boundary[] {
  const seen = new Map<string, number>();
  const next = (name: string): Boundary => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return `${name}#${n}`;
  };
  return recorded.flatMap((step) => [...(BEFORE_ENTRY[step] ? [next(BEFORE_ENTRY[step]!)] : []), next(step)]);
}

/** The id of the workspace's latest ceremony. */
export function lastCeremony(tw: TestWorkspace): string {
  return readdirSync(join(tw.root, 'transcripts')).filter((f) => f.endsWith('.jsonl')).sort().at(-1)!.replace(/\.jsonl$/, '');
}

/** What a crash left: the workspace, where it died, and the ceremony it cut short. */
export interface Crashed {
  tw: TestWorkspace;
  boundary: Boundary;
  ceremony: string;
  entries: ReturnType<typeof steps>;
  /** Whether the ceremony closed (sealed or aborted) before the crash: then nothing is interrupted. */
  closed: boolean;
  /** Complete shard files the crash left that no entry records (finishExport): the finishing export moves them aside. */
  unrecorded?: string[];
}

/** One command of the crash table. */
export interface CrashCase {
  name: string;
  /** Builds the workspace the command runs in, once; each boundary runs in a copy. */
  setup(): Promise<TestWorkspace>;
  /** The command, as given to TestWorkspace.kr. */
  command(tw: TestWorkspace): string[];
  /** Checked on what the crash left, before anything else runs. */
  invariants(c: Crashed): Promise<void>;
  /** The command that finishes the job after this crash (it may first do what the operator would), or null when the crash left nothing to do. */
  finish(c: Crashed): Promise<string[] | null>;
  /** Checked once the job is finished and verified; `interruption` is how audit verify reported the crash (none if the ceremony had closed). */
  after?(c: Crashed, finished: Run | null, interruption: Interruption | undefined): Promise<void>;
}

const faultEnv = (at: Boundary) => ({ KEYRITE_TEST_FAULTS: '1', KEYRITE_FAULT_AT: at });

/** Runs the command of `row` with the fault at `at` and asserts it died there by SIGKILL. */
export async function crashAt(tw: TestWorkspace, args: string[], at: Boundary): Promise<Crashed> {
  const before = lastCeremony(tw);
  const r = await tw.kr(args, { env: faultEnv(at) });
  assert.equal(r.signal, 'SIGKILL', `expected the command to die at ${at}; it exited ${r.code}:\n${r.stdout}${r.stderr}`);
  const ceremony = lastCeremony(tw);
  assert.notEqual(ceremony, before, `the crash at ${at} opened no ceremony`);
  const entries = steps(tw, ceremony);
  const closed = ['ceremony.seal', 'ceremony.abort'].includes(entries.at(-1)!.step);
  return { tw, boundary: at, ceremony, entries, closed };
}

/**
 * `audit verify` passes, and names `c`'s ceremony as interrupted exactly when it was left open:
 * through `keyrite audit verify --json` with `cli`, else with the verifier it runs, in process
 * (the same call on the same files, without a process start per boundary).
 */
export async function verifiesInterrupted(c: Crashed, cli: boolean): Promise<Interruption | undefined> {
  const ws = new Workspace(c.tw.root);
  const v = cli
    ? ok(await c.tw.kr(['audit', 'verify', '--json']), `audit verify after a crash at ${c.boundary}`)
    : await verifyTranscripts({ files: ceremonyFiles(ws.transcriptsDir), root: ws.root, rosterFile: ws.rosterFile });
  assert.deepEqual(v.failures ?? [], [], `audit verify after a crash at ${c.boundary}`);
  const named = (v.interrupted as Interruption[]).filter((i) => i.ceremony === c.ceremony);
  if (c.closed) {
    assert.deepEqual(named, [], `${c.ceremony} closed before the crash; nothing is interrupted`);
    return undefined;
  }
  assert.equal(named.length, 1, `audit verify names ${c.ceremony} as interrupted: ${JSON.stringify(v.interrupted)}`);
  assert.equal(named[0]!.lastSeq, c.entries.length - 1, 'the interruption names the last entry the crash left');
  assert.notEqual(named[0]!.recordedBy.file, `transcripts/${c.ceremony}.jsonl`, 'a later ceremony records it');
  return named[0];
}

/**
 * The table: one reference run of `row` to read its boundaries, then, for each, a crash there
 * in a copy of the workspace, the invariants, the finishing command, and audit verify (through
 * the CLI for the last boundary before the closing entry, which always leaves the ceremony
 * open). Two boundaries run at a time.
 */
export async function crashTable(t: TestContext, row: CrashCase): Promise<void> {
  const base = await row.setup();
  const reference = base.clone();
  // Without KEYRITE_TEST_FAULTS the fault variable is ignored entirely: this run must finish.
  ok(await reference.kr(row.command(reference), { env: { KEYRITE_FAULT_AT: 'ceremony.start' } }), `${row.name} with KEYRITE_FAULT_AT but not the test flag`);
  const boundaries = boundariesOf(steps(reference, lastCeremony(reference)).map((s) => s.step));
  const viaCli = boundaries.at(-2);
  await Promise.all(boundaries.map((at) => t.test(`killed at ${at}`, async () => {
    const tw = base.clone();
    const c = await crashAt(tw, row.command(tw), at);
    await row.invariants(c);
    const args = await row.finish(c);
    assert.ok(args || c.closed, `${c.ceremony} was left open at ${at}, so some command must finish it and record the interruption`);
    const finished = args ? await tw.kr(args) : null;
    if (finished) ok(finished, `finishing after a crash at ${at}: ${args!.join(' ')}`);
    const interruption = await verifiesInterrupted(c, at === viaCli);
    await row.after?.(c, finished, interruption);
  })));
}

// Custody after a crash in an export (docs/ARCHITECTURE.md §8; DESIGN §8): for every party of a
// key, the node still holds its encrypted share, or a complete shard exists whose digest the
// transcript records and whose custodian's receipt for that digest is recorded — never neither.

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Shards already opened, by digest and party: the same bytes are checked after the crash and again once finished. */
const opened = new Set<string>();

/** Asserts the shard at `path` (of digest `digest`) opens for `custodian` and holds `party`. */
async function opensAs(tw: TestWorkspace, custodian: string, party: string, path: string, digest: string): Promise<void> {
  if (opened.has(`${digest}/${party}`)) return;
  assert.equal((await readShard(tw, custodian, path)).share.party, party, `${custodian}'s shard ${path} holds party ${party}`);
  opened.add(`${digest}/${party}`);
}

/** The node's encrypted share of `keyId` at `epoch`, in its store (src/node/store.ts). */
export const nodeShare = (tw: TestWorkspace, node: string, keyId: string, epoch: number): string => join(tw.root, 'nodes', node, 'shares', `${keyId}.${epoch}.age`);

/**
 * Asserts never-neither for every party of `keyId` at the epoch in force (or `epoch`), from the
 * fold of the transcript and the files on disk; `except`: a custodian whose shard is lost already.
 */
export async function neverNeither(tw: TestWorkspace, keyId: string, o: { epoch?: number; except?: string } = {}): Promise<CustodyState> {
  const state = await loadState(new Workspace(tw.root));
  const r = state.keys.get(keyId) ?? assert.fail(`key ${keyId} is not recorded`);
  const epoch = o.epoch ?? r.epoch;
  for (const p of r.parties) {
    if (p.custodian === o.except) continue;
    if (existsSync(nodeShare(tw, p.node, keyId, epoch))) continue;
    const path = shardFile(tw, p.custodian, keyId, epoch);
    assert.ok(existsSync(path), `${p.node} holds nothing and ${p.custodian} has no shard of ${keyId}`);
    const digest = sha256(readFileSync(path));
    assert.equal(state.exports.get(shardRoleName(p.custodian, keyId, epoch))?.sha256, digest, `${p.node} holds nothing and ${p.custodian}'s shard is not the one recorded`);
    const receipt = state.receipt(keyId, epoch, p.party);
    assert.ok(receipt?.custodian === p.custodian && receipt.shard === digest, `${p.node} holds nothing and ${p.custodian}'s receipt for the shard is not recorded`);
    await opensAs(tw, p.custodian, p.party, path, digest);
  }
  return state;
}

/**
 * The command that finishes an export of `keyId` after crash `c` (null when its ceremony closed).
 * When the crash fell between writing a shard and recording it, the file is a complete shard no
 * entry records: the export moves it aside (CEREMONY.md, "After a crash"; checked by movedAside). When
 * every party is done the export has nothing left to do and refuses (NOT_HELD) without opening
 * a ceremony, so the next recorded command, here the custodian's shard drill, records the
 * interruption.
 */
export async function finishExport(c: Crashed, keyId: string, exportArgs: string[]): Promise<string[] | null> {
  if (c.closed) return null;
  const { tw } = c;
  const state = await neverNeither(tw, keyId);
  const r = state.keys.get(keyId)!;
  const epoch = r.epoch;
  const done = r.parties.filter((p) => !existsSync(nodeShare(tw, p.node, keyId, epoch)));
  if (done.length === r.parties.length) {
    refused(await tw.kr(exportArgs), 1, 'NOT_HELD', [keyId]);
    const alice = r.parties[0]!.custodian;
    return ['shard', 'check', '--json', '--key', keyId, '--custodian', alice, ...tw.passArgs(alice)];
  }
  for (const p of r.parties) {
    const f = shardFile(tw, p.custodian, keyId, epoch);
    if (!existsSync(f) || state.exports.has(shardRoleName(p.custodian, keyId, epoch))) continue;
    // A complete shard no entry records: the finishing export moves it aside and writes a new one (movedAside).
    await opensAs(tw, p.custodian, p.party, f, sha256(readFileSync(f)));
    (c.unrecorded ??= []).push(f);
  }
  return exportArgs;
}

/** After the finishing export: each unrecorded shard the crash left was moved aside, kept, and said so. */
export function movedAside(c: Crashed, finished: Run | null): void {
  const want = (c.unrecorded ?? []).map((f) => `${f}.unrecorded`);
  assert.deepEqual(finished?.json?.setAside ?? [], want, 'the export names the shard files it moved aside');
  for (const f of want) assert.ok(existsSync(f), `${f} is kept`);
}

/**
 * A node that deleted or signed and was cut off before attesting owes that claim: audit verify
 * names it with the interruption, and nothing else.
 */
export function owedAttestations(c: Crashed, interruption: Interruption | undefined): void {
  const attested = new Set(c.entries.filter((e) => e.step === 'node.attest').map((e) => e.actor));
  const obliged = c.entries.flatMap((e) => (e.step === 'node.delete' ? [e.actor] : e.step === 'sign.result' ? (e.params.nodes as string[]) : []));
  const owed = obliged.filter((n) => !attested.has(n));
  assert.deepEqual(interruption?.owed.map((o) => o.reason.split(' ')[0]) ?? [], owed);
}

/** Once the job is done: no node holds `keyId`, and every custodian holds a receipted shard. */
export async function exportedAndDeleted(tw: TestWorkspace, keyId: string): Promise<void> {
  const state = await neverNeither(tw, keyId);
  for (const n of state.requireRoster().nodes) assert.ok(!readdirSync(join(tw.root, 'nodes', n.name, 'shares')).some((f) => f.startsWith(`${keyId}.`)), `${n.name} still holds ${keyId}`);
}
