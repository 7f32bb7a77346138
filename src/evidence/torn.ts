import { closeSync, fstatSync, openSync, readSync, ftruncateSync, fsyncSync, unlinkSync, readFileSync, existsSync, constants } from 'node:fs';
import { dirname, relative } from 'node:path';
import { sha256Hex } from '../base/canonical.js';
import { createFile, fsyncDir } from '../fs/atomic.js';
import { parseEnvelope } from '../base/dsse.js';
import { parseStatement, type Statement } from './statement.js';
import { TORN_EXT } from './chain.js';

// A crash mid-append leaves a last line without its newline (or, on some file systems, a
// newline-terminated line of garbage). That tail is never evidence and never silently dropped:
// it is moved to <file>.torn beside the transcript, and the next ceremony records
// ceremony.interrupted naming it before anything else.

export interface LastLine {
  line: string; // without the newline
  statement: Statement;
}

export interface Tail {
  last: LastLine | null; // the last intact line
  intactBytes: number; // file length up to and including its newline
  torn: Buffer | null; // what follows it
}

export interface TornInfo {
  file: string; // the .torn file, relative to the workspace
  sha256: string;
  bytes: number;
}

const CHUNK = 64 * 1024;

/** Reads backwards from the end until `count` newlines are found or the file starts. */
function readEnd(fd: number, size: number, count: number): { start: number; bytes: Buffer } {
  let start = size;
  let bytes = Buffer.alloc(0);
  while (start > 0) {
    const len = Math.min(CHUNK, start);
    start -= len;
    const chunk = Buffer.alloc(len);
    readSync(fd, chunk, 0, len, start);
    bytes = Buffer.concat([chunk, bytes]);
    let seen = 0;
    for (let i = bytes.length - 1; i >= 0 && seen < count; i--) if (bytes[i] === 0x0a) seen++;
    if (seen >= count) break;
  }
  return { start, bytes };
}

function parseLine(line: string): LastLine | null {
  try {
    return { line, statement: parseStatement(Buffer.from(parseEnvelope(line).payload, 'base64')) };
  } catch {
    return null;
  }
}

/** The line of `bytes` that ends just before offset `end` (a newline's successor), parsed. */
function lineEndingAt(bytes: Buffer, end: number): { from: number; last: LastLine | null } {
  const from = bytes.lastIndexOf(0x0a, end - 2) + 1;
  return { from, last: parseLine(bytes.subarray(from, end - 1).toString('utf8')) };
}

/**
 * The last intact line of a transcript and any torn bytes after it. `last` is null with
 * intactBytes > 0 only when the lines before the tail are damaged too: not a crash, for the
 * verifier to report.
 */
export function readTail(path: string): Tail {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const { start, bytes } = readEnd(fd, fstatSync(fd).size, 3);
    let cut = bytes.lastIndexOf(0x0a) + 1; // 0 when there is no newline at all
    let last: LastLine | null = null;
    if (cut > 0) {
      const final = lineEndingAt(bytes, cut);
      last = final.last;
      // An unparseable final line is the crash's garbage too; anything earlier is left alone.
      if (!last) {
        cut = final.from;
        last = cut > 0 ? lineEndingAt(bytes, cut).last : null;
      }
    }
    return { last, intactBytes: start + cut, torn: cut < bytes.length ? bytes.subarray(cut) : null };
  } finally {
    closeSync(fd);
  }
}

/**
 * Moves the torn tail to <file>.torn and truncates the transcript to its intact lines (removing
 * the file when none are left). Safe to repeat after a crash part-way through.
 */
export function setAsideTorn(workspaceRoot: string, path: string, tail: Tail): TornInfo {
  const torn = tail.torn!;
  const tornPath = path + TORN_EXT;
  if (!existsSync(tornPath) || !readFileSync(tornPath).equals(torn)) createFile(tornPath, torn, 0o644);
  if (tail.intactBytes === 0) {
    unlinkSync(path);
  } else {
    const fd = openSync(path, constants.O_WRONLY);
    try {
      ftruncateSync(fd, tail.intactBytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  fsyncDir(dirname(path));
  return { file: relative(workspaceRoot, tornPath), sha256: sha256Hex(torn), bytes: torn.length };
}
