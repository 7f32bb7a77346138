import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
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
 * The longest transcript line keyrite writes or reads: 8 MiB. The largest entries (a genesis
 * roster, a keygen result) are a few KiB; a line beyond the cap is damage, refused before it is
 * buffered whole (README, "Limits").
 */
export const MAX_LINE_BYTES = 8 << 20;

/** A line longer than MAX_LINE_BYTES; `line` is its 1-based number. */
export class LineTooLong extends Error {
  constructor(readonly line: number) {
    super(`line ${line} is longer than ${MAX_LINE_BYTES >> 20} MiB, the cap on a transcript line`);
  }
}

/**
 * A file's lines (without the newline), read in fixed-size chunks so memory does not grow with
 * the file. A line's bytes are valid only until the next one is asked for. The last line is
 * `complete: false` when the file does not end with a newline (a torn write). A line spread over
 * many chunks is gathered as a list and joined once, so reading costs time linear in its length;
 * past MAX_LINE_BYTES it throws LineTooLong instead. Only a regular file is read: a symbolic
 * link or a device in place of a transcript is refused (O_NOFOLLOW, then fstat).
 */
export function* readLines(file: string): Generator<{ bytes: Buffer; complete: boolean }> {
  const fd = openRegular(file, constants.O_RDONLY);
  try {
    let parts: Buffer[] = []; // the current line's bytes from earlier chunks, copied
    let held = 0;
    let n = 0;
    const buf = Buffer.alloc(CHUNK);
    for (let read = readSync(fd, buf, 0, CHUNK, null); read > 0; read = readSync(fd, buf, 0, CHUNK, null)) {
      const data = buf.subarray(0, read);
      let start = 0;
      for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
        n++;
        if (held + nl - start > MAX_LINE_BYTES) throw new LineTooLong(n);
        const bytes = parts.length ? Buffer.concat([...parts, data.subarray(start, nl)]) : data.subarray(start, nl);
        parts = [];
        held = 0;
        yield { bytes, complete: true };
        start = nl + 1;
      }
      if (start < read) {
        held += read - start;
        if (held > MAX_LINE_BYTES) throw new LineTooLong(n + 1);
        parts.push(Buffer.from(data.subarray(start))); // a copy: buf is reused by the next read
      }
    }
    if (held) yield { bytes: Buffer.concat(parts), complete: false };
  } finally {
    closeSync(fd);
  }
}

/** A transcript file that is not a regular file (a symbolic link, a directory, a device); the message says which. */
export class NotRegularFile extends Error {}

/**
 * Opens `file` only if it is a regular file, never through a symbolic link: lstat first, then
 * open with O_NOFOLLOW and check the descriptor, so a link swapped in between is refused too.
 */
export function openRegular(file: string, flags: number): number {
  const kind = (st: { isSymbolicLink(): boolean; isDirectory(): boolean }) =>
    st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a directory' : 'not a regular file';
  const st = lstatSync(file);
  if (!st.isFile()) throw new NotRegularFile(kind(st));
  let fd: number;
  try {
    fd = openSync(file, flags | constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw new NotRegularFile('a symbolic link');
    throw e;
  }
  const now = fstatSync(fd);
  if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) {
    closeSync(fd);
    throw new NotRegularFile(`replaced while it was opened (${kind(now)})`);
  }
  return fd;
}
