import { closeSync, openSync, readSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sha256Hex } from '../base/canonical.js';
import { listDir } from '../fs/atomic.js';

// How ceremonies are laid out and linked: transcripts/<NNNN>-<script>.jsonl, numbered in the
// order they ran, one DSSE envelope per line. A line's digest is sha256 of its bytes without the
// newline; each line's `prev` is the digest of the line before it, and a ceremony's first line
// names the previous ceremony's last line (its head). The very first line (genesis) has prev null.

export const TRANSCRIPT_EXT = '.jsonl';
export const TORN_EXT = '.torn';
const NUMBERED = /^(\d+)-[a-z0-9-]+/;

export function lineDigest(line: string | Uint8Array): string {
  return sha256Hex(line);
}

export function ceremonyIdOf(file: string): string {
  return basename(file, TRANSCRIPT_EXT);
}

function numberOf(name: string): number | undefined {
  const m = NUMBERED.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Orders transcript files as their ceremonies ran (by number, then name). */
export function byCeremonyOrder(files: string[]): string[] {
  const n = (f: string) => numberOf(basename(f)) ?? Number.MAX_SAFE_INTEGER;
  return [...files].sort((a, b) => n(a) - n(b) || basename(a).localeCompare(basename(b)));
}

/** The workspace's transcript files, oldest ceremony first. */
export function ceremonyFiles(dir: string): string[] {
  const names = listDir(dir);
  return byCeremonyOrder(names.filter((n) => n.endsWith(TRANSCRIPT_EXT)).map((n) => join(dir, n)));
}

/** The id for a new ceremony: one past every number used so far, set-aside torn files included. */
export function nextCeremonyId(dir: string, script: string): string {
  const used = listDir(dir).map(numberOf).filter((n): n is number => n !== undefined);
  const next = used.length ? Math.max(...used) + 1 : 1;
  return `${String(next).padStart(4, '0')}-${script}`;
}

const CHUNK = 1 << 20;

/**
 * A file's lines (without the newline), read in fixed-size chunks so memory does not grow with
 * the file. A line's bytes are valid only until the next one is asked for. The last line is
 * `complete: false` when the file does not end with a newline (a torn write).
 */
export function* readLines(file: string): Generator<{ bytes: Buffer; complete: boolean }> {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(CHUNK);
    let carry = Buffer.alloc(0);
    for (let read = readSync(fd, buf, 0, CHUNK, null); read > 0; read = readSync(fd, buf, 0, CHUNK, null)) {
      const data = carry.length ? Buffer.concat([carry, buf.subarray(0, read)]) : buf.subarray(0, read);
      let start = 0;
      for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
        yield { bytes: data.subarray(start, nl), complete: true };
        start = nl + 1;
      }
      carry = Buffer.from(data.subarray(start)); // a copy: buf is reused by the next read
    }
    if (carry.length) yield { bytes: carry, complete: false };
  } finally {
    closeSync(fd);
  }
}
