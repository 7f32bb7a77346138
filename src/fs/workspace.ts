import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { KeyriteError } from '../base/errors.js';

// Where everything lives in a workspace. Public records sit at the top; what a person must
// carry away is under holdings/<name>/; each node's private store is under nodes/<id>/.

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
    return join(this.root, 'identities', `${name}.pub.json`);
  }
  holdingsDir(name: string): string {
    return join(this.root, 'holdings', name);
  }
  identityFile(name: string, dir = this.holdingsDir(name)): string {
    return join(dir, `${name}.identity.age`);
  }
  nodeDir(id: string): string {
    return join(this.root, 'nodes', id);
  }
  guardianSetFile(custodian: string): string {
    return join(this.root, 'guardians', custodian, 'set.json');
  }
  guardianShareFile(guardian: string, custodian: string, dir = this.holdingsDir(guardian)): string {
    return join(dir, `${guardian}.share-of-${custodian}.json`);
  }
  recoveryDir(sessionId: string): string {
    return join(this.root, 'recovery', sessionId);
  }
  keyFile(keyId: string): string {
    return join(this.keysDir, `${keyId}.json`);
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

/** Reads and parses a JSON file, naming it in every error. */
export function readJson<T>(path: string, what = path): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyriteError('NOT_FOUND', `${what} not found (${path})`, { cause: e });
    throw new KeyriteError('UNREADABLE', `cannot read ${what} (${path}): ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new KeyriteError('DAMAGED_FILE', `${what} (${path}) is not valid JSON; it may be truncated or tampered with`, { cause: e });
  }
}

export function readBytes(path: string, what = path): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyriteError('NOT_FOUND', `${what} not found (${path})`, { cause: e });
    throw new KeyriteError('UNREADABLE', `cannot read ${what} (${path}): ${(e as Error).message}`, { cause: e });
  }
}
