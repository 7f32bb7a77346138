import { closeSync, constants, fstatSync, ftruncateSync, fsyncSync, readSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { sha256Hex } from '../base/canonical.js';
import { createFile, fsyncDir } from '../fs/atomic.js';
import { parseLine } from '../base/dsse.js';
import { parseStatement, type Statement } from './statement.js';
import { MAX_LINE_BYTES, openRegular, TORN_EXT } from './chain.js';

// A crash mid-append leaves a last line without its newline: that, and only that, is a torn
// write (docs/ARCHITECTURE.md §6). appendDurably writes a line and its newline with one write
// and fsyncs it, so a newline-terminated line that does not parse is never the crash's: it is
// damage, for the verifier to report, and nothing is set aside or recorded for it. A torn tail
// is never evidence and never silently dropped: it is copied to <file>.torn beside the
// transcript, the transcript is truncated to its intact lines, and the next ceremony records
// ceremony.interrupted naming it before anything else. No transcript file is ever removed, not
// even one whose only line was torn: it stays, empty, and the interruption record names its
// .torn file — the one case in which the verifier accepts an empty transcript (audit/verify.ts).
// Files are opened only as regular files, never through a symbolic link (chain.ts openRegular),
// so a link planted in transcripts/ cannot make the truncation reach a file elsewhere.

export interface LastLine {
  line: string; // without the newline
  statement: Statement;
}

export interface Tail {
  last: LastLine | null; // the last newline-terminated line, when there is one and it is an entry
  intactBytes: number; // file length up to and including the last newline
  torn: Buffer | null; // what follows it: a final fragment without a newline
  /** Why the tail is damage and not a torn write (the last complete line does not parse, or a line is over the cap). */
  damaged?: string;
}

export interface TornInfo {
  file: string; // the .torn file, relative to the workspace
  sha256: string;
  bytes: number;
}

const CHUNK = 64 * 1024;

/**
 * Reads backwards from the end until two newlines are found, the file starts, or more than two
 * capped lines' worth is read. Chunks are gathered in a list and joined once (linear).
 */
function readEnd(fd: number, size: number): { start: number; bytes: Buffer } {
  const chunks: Buffer[] = [];
  let start = size;
  let newlines = 0;
  while (start > 0 && newlines < 2 && size - start <= 2 * (MAX_LINE_BYTES + 1)) {
    const len = Math.min(CHUNK, start);
    start -= len;
    const chunk = Buffer.alloc(len);
    readSync(fd, chunk, 0, len, start);
    chunks.unshift(chunk);
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) newlines++;
  }
  return { start, bytes: Buffer.concat(chunks) };
}

/** The last newline-terminated line of a transcript and any torn fragment after it. */
export function readTail(path: string): Tail {
  const fd = openRegular(path, constants.O_RDONLY);
  try {
    const { start, bytes } = readEnd(fd, fstatSync(fd).size);
    const cut = bytes.lastIndexOf(0x0a) + 1; // 0 when there is no newline in what was read
    const torn = cut < bytes.length ? bytes.subarray(cut) : null;
    const tail: Tail = { last: null, intactBytes: start + cut, torn };
    if ((torn?.length ?? 0) > MAX_LINE_BYTES) return { ...tail, damaged: `ends in a fragment longer than the ${MAX_LINE_BYTES >> 20} MiB line cap` };
    if (cut === 0) return start === 0 ? tail : { ...tail, damaged: `ends in a line longer than the ${MAX_LINE_BYTES >> 20} MiB line cap` };
    const from = bytes.lastIndexOf(0x0a, cut - 2) + 1;
    if (from === 0 && start > 0) return { ...tail, damaged: `ends in a line longer than the ${MAX_LINE_BYTES >> 20} MiB line cap` };
    const line = bytes.subarray(from, cut - 1).toString('utf8');
    try {
      return { ...tail, last: { line, statement: parseStatement(Buffer.from(parseLine(line).payload, 'base64')) } };
    } catch (e) {
      return { ...tail, damaged: `ends in a newline-terminated line that is not a keyrite entry (${(e as Error).message})` };
    }
  } finally {
    closeSync(fd);
  }
}

/** The bytes of an existing .torn file (a regular file only), or null when there is none. */
function kept(tornPath: string): Buffer | null {
  let fd: number;
  try {
    fd = openRegular(tornPath, constants.O_RDONLY);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(size);
    for (let off = 0; off < size; ) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies the torn tail to <file>.torn and truncates the transcript to its intact lines — to
 * empty when none are left; the file is kept. A transcript emptied by an earlier run (or left
 * empty by a crash between creating it and writing its first line) is accounted for by its
 * .torn file, made empty if there is none. Safe to repeat after a crash part-way through.
 */
export function setAsideTorn(workspaceRoot: string, path: string, tail: Tail): TornInfo {
  const tornPath = path + TORN_EXT;
  const before = kept(tornPath);
  const torn = tail.torn ?? before ?? Buffer.alloc(0);
  if (!before || !before.equals(torn)) createFile(tornPath, torn, 0o644);
  const fd = openRegular(path, constants.O_WRONLY);
  try {
    if (fstatSync(fd).size !== tail.intactBytes) {
      ftruncateSync(fd, tail.intactBytes);
      fsyncSync(fd);
    }
  } finally {
    closeSync(fd);
  }
  fsyncDir(dirname(path));
  return { file: relative(workspaceRoot, tornPath), sha256: sha256Hex(torn), bytes: torn.length };
}
