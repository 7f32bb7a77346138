import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KeyriteError } from '../base/errors.js';
import { createFile, removeFile } from '../fs/atomic.js';
import { readBytes } from '../fs/workspace.js';
import type { Identity } from '../custody/identity.js';
import type { Share } from '../engine/index.js';
import { KEY_ID } from '../state/key-record.js';
import { openSealedShare, sealShare } from '../custody/sealed.js';

// A node's shares at rest: <home>/shares/<keyId>.<epoch>.age, each age ciphertext to the
// node's own recipient (docs/ARCHITECTURE.md §2). A share is decrypted into memory for one run and never
// written in the clear.

export interface Holding {
  keyId: string;
  epoch: number;
}

const FILE = /^(k[0-9a-f]{16})\.([1-9][0-9]*)\.age$/;

/**
 * A holding as a caller gave it, checked before it names a file: a key id (k + 16 hex) and an
 * epoch from 1 up. Anything else ("../../holdings/…", "identity") would name a file outside
 * the store, so it is refused here, and again by the HTTP server before it reaches the node.
 */
export function checkHolding(value: unknown, node: string): Holding {
  const h = value as Partial<Holding> | null;
  const keyId = h?.keyId;
  const epoch = h?.epoch;
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId) || typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 1) {
    throw new KeyriteError('BAD_REQUEST', `node ${node} refuses the request: it must name a key id (k and 16 hex digits) and an epoch from 1 up`, { node });
  }
  return { keyId, epoch };
}

export class ShareStore {
  readonly dir: string;

  constructor(home: string, private readonly identity: Identity) {
    this.dir = join(home, 'shares');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  path(h: Holding): string {
    const { keyId, epoch } = checkHolding(h, this.identity.name);
    return join(this.dir, `${keyId}.${epoch}.age`);
  }

  has(h: Holding): boolean {
    return existsSync(this.path(h));
  }

  async put(share: Share): Promise<Holding> {
    const h = { keyId: share.keyId, epoch: share.epoch };
    createFile(this.path(h), await sealShare(this.identity.recipient, share));
    return h;
  }

  async get(h: Holding): Promise<Share> {
    const what = `node ${this.identity.name}'s share of ${h.keyId} epoch ${h.epoch} (${this.path(h)})`;
    if (!this.has(h)) throw new KeyriteError('NOT_HELD', `${this.identity.name} holds no share of key ${h.keyId} at epoch ${h.epoch}`);
    return openSealedShare(this.identity.ageIdentity, readBytes(this.path(h), what), what);
  }

  remove(h: Holding): void {
    removeFile(this.path(h));
  }

  holdings(): Holding[] {
    return readdirSync(this.dir)
      .map((f) => FILE.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ keyId: m[1]!, epoch: Number(m[2]) }))
      .sort((a, b) => a.keyId.localeCompare(b.keyId) || a.epoch - b.epoch);
  }
}
