import { closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { KeyriteError } from '../base/errors.js';

// Where everything lives in a workspace. Public records sit at the top; what a person must
// carry away is under holdings/<name>/; each node's private store is under nodes/<id>/. Every
// name or id that becomes part of a path is checked first (one path component, no "..", no
// "/"), so a name from the command line or a file cannot point outside the workspace. And the
// one reader of the files people hand in: a regular file only (never a directory, device or
// FIFO), of bounded size, so /dev/zero or a 300 MB file is refused at once instead of read.

/** What may stand for a person, node, key or session in a path: lowercase letters, digits, "-". */
const COMPONENT = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Refuses a name or id that is not one safe path component (docs/ARCHITECTURE.md §8: bad input is named). */
export function pathComponent(id: string, what: string): string {
  if (typeof id !== 'string' || !COMPONENT.test(id)) {
    throw new KeyriteError('BAD_NAME', `${what} ${JSON.stringify(id)} is not valid: use lowercase letters, digits or "-" (at most 64), starting with a letter or digit`);
  }
  return id;
}

export class Workspace {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }
  get rosterFile(): string {
    return join(this.root, 'roster.json');
  }
  get transcriptsDir(): string {
    return join(this.root, 'transcripts');
  }
  get keysDir(): string {
    return join(this.root, 'keys');
  }
  publicIdentityFile(name: string): string {
    return join(this.root, 'identities', `${pathComponent(name, 'the name')}.pub.json`);
  }
  holdingsDir(name: string): string {
    return join(this.root, 'holdings', pathComponent(name, 'the name'));
  }
  identityFile(name: string, dir = this.holdingsDir(name)): string {
    return join(dir, `${pathComponent(name, 'the name')}.identity.age`);
  }
  nodeDir(id: string): string {
    return join(this.root, 'nodes', pathComponent(id, 'the node id'));
  }
  guardianSetFile(custodian: string): string {
    return join(this.root, 'guardians', pathComponent(custodian, 'the custodian name'), 'set.json');
  }
  guardianShareFile(guardian: string, custodian: string, dir = this.holdingsDir(guardian)): string {
    return join(dir, `${pathComponent(guardian, 'the guardian name')}.share-of-${pathComponent(custodian, 'the custodian name')}.json`);
  }
  recoveryDir(sessionId: string): string {
    return join(this.root, 'recovery', pathComponent(sessionId, 'the recovery session id'));
  }
  keyFile(keyId: string): string {
    return join(this.keysDir, `${pathComponent(keyId, 'the key id')}.json`);
  }

  /** `path` as the transcript names files of the workspace: relative to its root. */
  relative(path: string): string {
    return relative(this.root, path);
  }

  /** A workspace is its transcript: the roster and key files beside it are caches of it. */
  exists(): boolean {
    return existsSync(this.transcriptsDir);
  }

  /** Fails with a pointer to `keyrite init` when there is no workspace here. */
  requireExists(): this {
    if (!this.exists()) {
      throw new KeyriteError('NO_WORKSPACE', `no keyrite workspace at ${this.root}`);
    }
    return this;
  }

  mkdirs(...dirs: string[]): void {
    for (const d of dirs) mkdirSync(d, { recursive: true, mode: 0o700 });
  }
}

function notAFile(st: Stats, path: string, what: string): KeyriteError {
  const kind = st.isDirectory() ? 'a directory' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isFIFO() ? 'a pipe' : 'not a regular file';
  return new KeyriteError('NOT_A_FILE', `${what} (${path}) is ${kind}; keyrite reads only regular files`);
}

/**
 * Refuses a path that exists but is no regular file, for files read by a streaming reader of
 * their own (the transcripts): a directory or device where one belongs is named, not read.
 */
export function requireRegularFile(path: string, what: string): string {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyriteError('NOT_FOUND', `${what} not found (${path})`, { cause: e });
    throw new KeyriteError('UNREADABLE', `cannot read ${what} (${path}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  if (!st.isFile()) throw notAFile(st, path, what);
  return path;
}

/** The most keyrite reads of a file it is handed (identities, shards, shares, sets, requests are a few KiB). */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

/**
 * Reads a file a person or the workspace hands in: it must be a regular file (a symlink is
 * followed, but only to one) of at most `max` bytes, or the error names it and says why. The
 * size is checked on the open file, and at most `max` + 1 bytes are ever read, so a file that
 * grows while it is read is refused too.
 */
export function readBytes(path: string, what = path, max = MAX_INPUT_BYTES): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below as not a file.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new KeyriteError('NOT_FOUND', `${what} not found (${path})`, { cause: e });
    throw new KeyriteError('UNREADABLE', `cannot read ${what} (${path}): ${code ?? (e as Error).message}`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notAFile(st, path, what);
    const tooLarge = () => new KeyriteError('TOO_LARGE', `${what} (${path}) is larger than the ${max} bytes keyrite accepts`);
    if (st.size > max) throw tooLarge();
    const buf = Buffer.alloc(Math.min(st.size, max) + 1);
    let n = 0;
    for (let got; n < buf.length && (got = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += got;
    if (n > max) throw tooLarge();
    return buf.subarray(0, n);
  } catch (e) {
    if (e instanceof KeyriteError) throw e;
    throw new KeyriteError('UNREADABLE', `cannot read ${what} (${path}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  } finally {
    closeSync(fd);
  }
}

/** Reads and parses a JSON file through readBytes, naming it in every error. */
export function readJson<T>(path: string, what = path, max = MAX_INPUT_BYTES): T {
  return jsonOf<T>(readBytes(path, what, max), path, what);
}

/** Parses bytes read from `path` as JSON (for a caller that also needs the bytes, read once). */
export function jsonOf<T>(bytes: Buffer, path: string, what = path): T {
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new KeyriteError('DAMAGED_FILE', `${what} (${path}) is not valid JSON; it may be truncated or tampered with`, { cause: e });
  }
}
