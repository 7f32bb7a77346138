import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { keyrite, passphraseFile, snapshot, tempDir, type Run } from './cli.js';

// Workspaces for the foundation tests (identities, guardian shares, custodian recovery).
// Every suite builds its workspace through makeWorkspace(), so a step that later becomes
// mandatory before custodial commands (e.g. `roster seal`) is added in ONE place: see
// "SEAL STEP" below.

export const FAST = '--insecure-fast-kdf';

export type PersonRole = 'generator' | 'custodian' | 'guardian' | 'witness' | 'auditor';

export interface WorkspaceOptions {
  /** custodian → its guardians, in share order. Default: { alice: [g1 … gm] }. */
  guardians?: Record<string, string[]>;
  /** Guardian threshold k (default 2) and guardians per custodian m (default: the first set's size, or 3). */
  k?: number;
  m?: number;
  /** More people to enrol, with no duty (spare guardians, auditors, …). */
  extra?: { name: string; role: PersonRole }[];
  /** Run `custodian setup` for every custodian (default true). */
  setup?: boolean;
  /** Leave the roster open for enrolment: no seal, no custodian setup (default false). */
  open?: boolean;
  /** Name of the witness enrolled so that the roster can be sealed (default "witness"). */
  witness?: string;
  /** Custodians who approve a recovery (enrolled as custodians if not already; default bob, carol). */
  approvers?: string[];
  /** Approvals the policy asks for (default 2). */
  approvals?: number;
}

export interface TestWorkspace {
  /** Temp dir holding the workspace, the passphrase files and any --out dirs; never inside `root`. */
  base: string;
  /** The workspace (--workspace). */
  root: string;
  /** Where passphrase files live (outside the workspace). */
  secretsDir: string;
  generator: string;
  witness: string;
  approvers: string[];
  custodians: string[];
  guardiansOf: Record<string, string[]>;
  k: number;
  m: number;
  roles: Record<string, PersonRole>;
  /** name → passphrase file (0600) */
  pass: Record<string, string>;
  /** name → passphrase text */
  passphrases: Record<string, string>;
  /** Every command run through `kr`, for the leak checks. */
  runs: { args: string[]; run: Run }[];
  /**
   * What `recover custodian` needs besides shares, when finishing (complete or drill) for
   * `custodian`: the approvers' quorum, the witness and the generator, with their passphrases.
   */
  quorumArgs(custodian: string): Promise<string[]>;
  /** Runs keyrite on this workspace with the fast KDF and --yes (scripts confirm with --yes). */
  kr(args: string[], opts?: { input?: string; env?: Record<string, string> }): Promise<Run>;
  /** `--passphrase-file NAME=PATH` for each name. */
  passArgs(...names: string[]): string[];
  /** Writes another passphrase file for NAME (e.g. a custodian's new passphrase); returns its path. */
  extraPassphrase(name: string, label: string, text?: string): string;
  identityFile(name: string): string;
  pubFile(name: string): string;
  holdings(name: string): string;
  shareFile(guardian: string, custodian: string): string;
  setFile(custodian: string): string;
  /** A new empty directory under `base` (for --out). */
  freshDir(label: string): string;
  /** For a workspace made with `open: true`: seal the roster and set the custodians up. */
  finish(): Promise<void>;
  /** An identical copy (same keys, same files) in a new directory: saves building it twice. */
  clone(): TestWorkspace;
}

let counter = 0;

function must(r: Run, what: string): Run {
  if (r.code !== 0) throw new Error(`workspace set-up failed at ${what} (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

export async function makeWorkspace(o: WorkspaceOptions = {}): Promise<TestWorkspace> {
  const k = o.k ?? 2;
  const guardiansOf = o.guardians ?? { alice: Array.from({ length: o.m ?? 3 }, (_, i) => `g${i + 1}`) };
  const custodians = Object.keys(guardiansOf);
  const m = o.m ?? guardiansOf[custodians[0]!]?.length ?? 3;
  const base = tempDir('keyrite-foundation-');
  const secretsDir = join(base, 'secrets');
  mkdirSync(secretsDir, { mode: 0o700 });
  const generator = 'generator';
  const witness = o.witness ?? 'witness';
  const approvers = o.approvers ?? ['bob', 'carol'];
  const approvals = o.approvals ?? 2;

  const roles: Record<string, PersonRole> = { [generator]: 'generator', [witness]: 'witness' };
  for (const c of [...custodians, ...approvers]) roles[c] = 'custodian';
  for (const gs of Object.values(guardiansOf)) for (const g of gs) roles[g] = 'guardian';
  for (const e of o.extra ?? []) roles[e.name] = e.role;

  const pass: Record<string, string> = {};
  const passphrases: Record<string, string> = {};
  for (const name of Object.keys(roles)) {
    passphrases[name] = `${name} passphrase correct horse battery ${counter++}`;
    pass[name] = passphraseFile(secretsDir, name, passphrases[name]);
  }

  const tw = bind({ base, secretsDir, generator, witness, approvers, approvals, custodians, guardiansOf, k, m, roles, pass, passphrases, options: o });
  const { kr, passArgs } = tw;
  must(await kr(['init', '--guardian-threshold', String(k), '--guardians', String(m), '--approvals', String(approvals), ...passArgs(generator)]), 'init');
  for (const [name, role] of Object.entries(roles)) {
    if (name === generator) continue;
    must(await kr(['identity', 'new', '--name', name, '--role', role, ...passArgs(name)]), `identity new ${name}`);
  }
  if (!o.open) await tw.finish();
  return tw;
}

type State = Pick<
  TestWorkspace,
  'base' | 'secretsDir' | 'generator' | 'witness' | 'approvers' | 'custodians' | 'guardiansOf' | 'k' | 'm' | 'roles' | 'pass' | 'passphrases'
> & { approvals: number; options: WorkspaceOptions };

function bind(st: State): TestWorkspace {
  const { base, secretsDir, generator, witness, approvers, approvals, pass } = st;
  const root = join(base, 'ws');
  const runs: { args: string[]; run: Run }[] = [];
  const kr = async (args: string[], opts: { input?: string; env?: Record<string, string> } = {}) => {
    const full = ['--workspace', root, FAST, '--yes', ...args];
    const run = await keyrite(full, opts);
    runs.push({ args: full, run });
    return run;
  };
  const passArgs = (...names: string[]) => names.flatMap((n) => ['--passphrase-file', `${n}=${pass[n] ?? assert.fail(`no passphrase file for ${n}`)}`]);
  const tw: TestWorkspace = {
    base, root, secretsDir, generator, witness, approvers, custodians: st.custodians, guardiansOf: st.guardiansOf, k: st.k, m: st.m,
    roles: st.roles, pass, passphrases: st.passphrases, runs, kr, passArgs,
    extraPassphrase(name, label, text) {
      const p = join(secretsDir, `${name}-${label}-${counter++}.pass`);
      const value = text ?? `${name} ${label} passphrase staple orbit ${counter++}`;
      writeFileSync(p, value + '\n', { mode: 0o600 });
      return p;
    },
    async quorumArgs(custodian) {
      const names = approvers.filter((a) => a !== custodian).slice(0, approvals);
      return ['--approvers', names.join(','), ...passArgs(generator, witness, ...names)];
    },
    identityFile: (name) => join(root, 'holdings', name, `${name}.identity.age`),
    pubFile: (name) => join(root, 'holdings', name, `${name}.pub.json`),
    holdings: (name) => join(root, 'holdings', name),
    shareFile: (g, c) => join(root, 'holdings', g, `${g}.share-of-${c}.json`),
    setFile: (c) => join(root, 'guardians', c, 'set.json'),
    freshDir(label) {
      const d = join(base, `out-${label}-${counter++}`);
      mkdirSync(d, { mode: 0o700 });
      return d;
    },
    async finish() {
      // SEAL STEP: custodial commands require a sealed roster (docs/ARCHITECTURE.md §1, step 0).
      must(await kr(['roster', 'seal', ...passArgs(generator, witness)]), 'roster seal');
      if (st.options.setup ?? true) {
        for (const c of st.custodians) {
          const gs = st.guardiansOf[c]!;
          must(await kr(['custodian', 'setup', '--custodian', c, '--guardians', gs.join(','), '--threshold', String(st.k), ...passArgs(c)]), `custodian setup ${c}`);
        }
      }
    },
    clone() {
      const copy = tempDir('keyrite-foundation-');
      cpSync(root, join(copy, 'ws'), { recursive: true });
      return bind({ ...st, base: copy });
    },
  };
  return tw;
}

/**
 * A snapshot of custody state: every file and its mode, except transcripts/ (docs/ARCHITECTURE.md §8: a
 * refused attempt may be recorded in the transcript, but custody state must not change).
 */
export function custodyState(dir: string): Map<string, string> {
  const s = snapshot(dir);
  for (const p of [...s.keys()]) {
    const rel = relative(dir, p);
    if (rel === 'transcripts' || rel.startsWith(`transcripts${sep}`)) s.delete(p);
  }
  return s;
}

/** Asserts two snapshots are equal, listing what was added, removed or changed. */
export function assertUnchanged(before: Map<string, string>, after: Map<string, string>, what = 'the directory'): void {
  const diffs: string[] = [];
  for (const [p, v] of after) if (!before.has(p)) diffs.push(`added ${p}`);
  else if (before.get(p) !== v) diffs.push(`changed ${p}`);
  for (const p of before.keys()) if (!after.has(p)) diffs.push(`removed ${p}`);
  assert.deepEqual(diffs, [], `${what} changed:\n${diffs.join('\n')}`);
}

/** Snapshots several directories at once; call the result to assert none changed. */
export function watch(...dirs: string[]): () => void {
  const before = dirs.map((d) => custodyState(d));
  return () => dirs.forEach((d, i) => assertUnchanged(before[i]!, custodyState(d), d));
}

/** `--json` output is exactly one JSON object on stdout. */
export function oneObject(r: Run): any {
  const text = r.stdout.trim();
  assert.ok(text.length > 0, `no JSON on stdout (exit ${r.code}); stderr: ${r.stderr}`);
  assert.ok(!text.includes('\n'), `stdout holds more than one line:\n${r.stdout}`);
  let obj: any;
  assert.doesNotThrow(() => (obj = JSON.parse(text)), `stdout is not JSON:\n${r.stdout}`);
  assert.equal(typeof obj, 'object');
  assert.ok(obj !== null && !Array.isArray(obj), 'stdout JSON is not an object');
  return obj;
}

export function ok(r: Run, what = 'command'): any {
  assert.equal(r.code, 0, `${what} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
  const obj = oneObject(r);
  assert.equal(obj.ok, true);
  return obj;
}

/** A --json refusal: exact exit status and code, and a message that mentions each string. */
export function refused(r: Run, exit: number, code: string, mentions: string[] = []): any {
  const obj = oneObject(r);
  assert.equal(obj.ok, false, `expected a refusal, got ${r.stdout}`);
  assert.equal(typeof obj.error?.message, 'string');
  assert.equal(obj.error.code, code, `error code (message: ${obj.error.message})`);
  assert.equal(r.code, exit, `exit status (${obj.error.code}: ${obj.error.message})`);
  for (const m of mentions) assert.ok(obj.error.message.includes(m), `the message should name ${JSON.stringify(m)}: ${obj.error.message}`);
  return obj;
}

export function readJsonFile(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

export function isEmptyDir(dir: string): boolean {
  return readdirSync(dir).length === 0;
}

/** Every k-subset of `items`, in lexicographic order. */
export function subsets<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [first, ...rest] = items;
  return [...subsets(rest, k - 1).map((s) => [first!, ...s]), ...subsets(rest, k)];
}

/** Flips one byte inside the age ciphertext payload of an armored age file (after the header). */
export function flipCiphertextByte(armored: string): string {
  const lines = armored.trim().split('\n');
  const b64 = lines.slice(1, -1).join('');
  const bin = Buffer.from(b64, 'base64');
  const headerEnd = bin.indexOf(Buffer.from('\n---'));
  const mac = bin.indexOf(0x0a, headerEnd + 1);
  const at = mac + 1 + 16 + 5; // past the 16-byte nonce, inside the first payload chunk
  assert.ok(at < bin.length, 'ciphertext too short to tamper with');
  bin[at] = bin[at]! ^ 0x01;
  const out = bin.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `${lines[0]}\n${out}\n${lines[lines.length - 1]}\n`;
}
