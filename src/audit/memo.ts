import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, mkdirSync, readFileSync, readSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { replaceFile } from '../fs/atomic.js';
import type { CustodyState } from '../state/fold.js';
import { openRegular } from '../evidence/chain.js';
import { archivedNames } from '../evidence/script.js';
import { toolInfo } from '../evidence/tool.js';
import type { FileMark, Resume } from './verify.js';

// The verified-state memo (docs/ARCHITECTURE.md §2, "State from evidence"): after loading state,
// keyrite remembers, outside the workspace, where the verification ended — the custody state,
// and the name, size and sha256 of every transcript it had read. The next load hashes those
// files again and, only if every byte is the same, goes on from there, checking the signatures
// of the new ceremonies alone; any difference means a full verification. So a command costs a
// sha256 pass over the history plus the work of what is new, however long the history grows.
// The memo is bound to this build (its code digest and its script archive): another keyrite,
// with other rules, never reuses it. `audit verify` never reads it.
//
// It lives under $XDG_STATE_HOME/keyrite (default ~/.local/state/keyrite), never in the
// workspace, whose public files an attacker may write (docs/ARCHITECTURE.md §2). Whoever
// can write the operator's home can replace keyrite itself, so the memo adds no new trust.

interface MemoDoc {
  v: 1;
  build: string;
  root: string;
  resume: Resume;
}

let build: string | undefined;
/** This build: its code and every script it accepts. */
function buildDigest(): string {
  build ??= sha256Hex(`${toolInfo().digest}\n${archivedNames().join('\n')}`);
  return build;
}

function memoDir(): string | undefined {
  const base = process.env.XDG_STATE_HOME || (process.env.HOME ? join(homedir(), '.local', 'state') : undefined);
  return base ? join(base, 'keyrite', 'verified') : undefined;
}

function memoPath(root: string): string | undefined {
  const dir = memoDir();
  return dir && join(dir, `${sha256Hex(realpathSync(root)).slice(0, 32)}.v8`);
}

/** Whether `file` still holds exactly the bytes `m` describes; anything unexpected (not a regular file, unreadable) is a no. */
function unchanged(file: string, m: FileMark): boolean {
  let fd: number | undefined;
  try {
    fd = openRegular(file, constants.O_RDONLY);
    if (basename(file) !== m.name || fstatSync(fd).size !== m.size) return false;
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) hash.update(chunk.subarray(0, n));
    return hash.digest('hex') === m.sha256;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface Recalled {
  /** Where to go on from: the memo is this build's, and every file it covers is unchanged. */
  resume?: Resume;
  /** The history this machine verified last, whatever build did it: the next one must extend it. */
  verified: { genesis: string | null; head: string | null; memo: string };
}

/**
 * What this machine remembers of `root`'s history (undefined when nothing, or only a damaged
 * memo). `files` must be in ceremony order.
 */
export function recall(root: string, files: string[]): Recalled | undefined {
  const path = memoPath(root);
  if (!path) return undefined;
  let doc: MemoDoc;
  try {
    doc = deserialize(readFileSync(path)) as MemoDoc;
    if (doc?.v !== 1 || doc.root !== realpathSync(root) || !Array.isArray(doc.resume?.marks)) return undefined;
  } catch {
    return undefined; // none yet, or damaged: verify in full
  }
  const verified = { genesis: doc.resume.genesis, head: doc.resume.prev, memo: path };
  const same = doc.build === buildDigest() && doc.resume.marks.length <= files.length && doc.resume.marks.every((m, i) => unchanged(files[i]!, m));
  return same ? { resume: doc.resume, verified } : { verified };
}

/**
 * Refuses a history that verified but does not extend the one this machine verified last: an
 * honest history only grows, so one whose remembered head is gone was cut or rewritten by
 * someone who can write the workspace (the node's own anchor does the same, src/node/anchor.ts).
 */
export function requireExtends(state: CustodyState, r: Recalled | undefined, root: string): void {
  const v = r?.verified;
  if (!v || r.resume) return;
  if (state.genesis === v.genesis && (v.head === null || state.holdsLine(v.head))) return;
  throw new KeyriteError(
    'HISTORY_NOT_EXTENDED',
    `the transcripts in ${root} do not extend the history this machine verified (genesis ${v.genesis ?? 'none'}, head ${v.head ?? 'none'}): lines were removed or the history replaced; ` +
      `compare with the head the witness wrote down. If you restored this workspace from a backup on purpose, remove ${v.memo} and run again`,
  );
}

/** Remembers where a verification of `root`'s transcripts ended (Verifier.resumable). Best effort. */
export function remember(root: string, resume: Resume | undefined): void {
  const path = memoPath(root);
  if (!path || !resume) return;
  try {
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    replaceFile(path, serialize({ v: 1, build: buildDigest(), root: realpathSync(root), resume } satisfies MemoDoc), 0o600);
  } catch {
    // A memo that cannot be written costs the next command a full verification, nothing more.
  }
}
