import { closeSync, constants, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { KeyriteError } from '../base/errors.js';

// Everything keyrite writes goes through here: temp file in the same directory, fsync, then
// rename (or link, for exclusive creation), then fsync of the directory, so a crash leaves
// either the old state or the complete new file, never a torn one.

export class FileExistsError extends KeyriteError {
  constructor(readonly path: string) {
    super('FILE_EXISTS', `${path} already exists; keyrite never overwrites it. Move it aside first if you mean to replace it.`);
  }
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeTemp(path: string, data: Uint8Array | string, mode: number): string {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  return tmp;
}

/** Creates `path` atomically; fails with FileExistsError if it exists. Default mode 0600. */
export function createFile(path: string, data: Uint8Array | string, mode = 0o600): void {
  const tmp = writeTemp(path, data, mode);
  try {
    linkSync(tmp, path); // link(2) fails with EEXIST: exclusive and atomic at once
  } catch (e) {
    unlinkSync(tmp);
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(path);
    throw e;
  }
  unlinkSync(tmp);
  fsyncDir(dirname(path));
}

/** Moves `path` to `to`, never over a file already there (FileExistsError); both directories are made durable. */
function moveTo(path: string, to: string): string {
  try {
    linkSync(path, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(to);
    throw e;
  }
  unlinkSync(path);
  fsyncDir(dirname(to));
  fsyncDir(dirname(path));
  return to;
}

/**
 * Moves `path` to `to` as moveTo does, and can be run again after a crash: a `path` already gone
 * is moved, and a `to` with the very bytes of `path` (a crash between moveTo's link and unlink)
 * is the move done, so `path` is unlinked. A different file at `to` is never replaced
 * (FileExistsError). Returns whether `path` was there to move.
 */
export function finishMove(path: string, to: string): boolean {
  if (!existsSync(path)) return false;
  mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
  if (existsSync(to) && readFileSync(to).equals(readFileSync(path))) removeFile(path);
  else moveTo(path, to);
  return true;
}

/** Replaces a public record atomically (roster, key records). Never for secret files. */
export function replaceFile(path: string, data: Uint8Array | string, mode = 0o644): void {
  const tmp = writeTemp(path, data, mode);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/**
 * Appends `text` with one write loop and fsyncs it before returning; when the append creates the
 * file (`exclusive`: it must not exist yet), the directory entry is made durable too. For the
 * append-only logs: transcripts and a node's session log.
 */
export function appendDurably(path: string, text: string, o: { mode: number; exclusive?: boolean }): void {
  const created = o.exclusive === true || !existsSync(path);
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (o.exclusive ? constants.O_EXCL : 0);
  const fd = openSync(path, flags, o.mode);
  try {
    const buf = Buffer.from(text, 'utf8');
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (created) fsyncDir(dirname(path));
}

/** The names in `dir`, or none when it does not exist yet. */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Moves `path` aside to `<path>.unrecorded` (or `.unrecorded.2`, …: never over another file);
 * returns where it went. For a file the evidence does not account for, which is kept for whoever
 * wants to look at it, never used and never lost.
 */
export function moveUnrecorded(path: string): string {
  for (let n = 1; ; n++) {
    try {
      return moveTo(path, n === 1 ? `${path}.unrecorded` : `${path}.unrecorded.${n}`);
    } catch (e) {
      if (!(e instanceof FileExistsError)) throw e;
    }
  }
}

/** Removes `dir` if nothing is left in it (a staging directory once emptied); keeps it otherwise. */
export function removeEmptyDir(dir: string): void {
  if (!existsSync(dir) || readdirSync(dir).length > 0) return;
  rmdirSync(dir);
  fsyncDir(dirname(dir));
}

/** Removes a file and makes the removal durable. */
export function removeFile(path: string): void {
  unlinkSync(path);
  fsyncDir(dirname(path));
}
