import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KeyriteError } from '../errors.js';
import { createFile, removeFile } from '../fs/atomic.js';
import { readBytes, type Workspace } from '../fs/workspace.js';
import { decryptWith, encryptTo } from '../custody/age.js';
import type { Identity } from '../custody/identity.js';
import { getEngine, serializeShare, type Share } from '../engine/index.js';

// A node's shares at rest: nodes/<id>/shares/<keyId>.<epoch>.age, each age ciphertext to the
// node's own recipient (DESIGN §2). A share is decrypted into memory for one run and never
// written in the clear.

export interface Holding {
  keyId: string;
  epoch: number;
}

const FILE = /^(k[0-9a-f]{16})\.([1-9][0-9]*)\.age$/;

export class ShareStore {
  readonly dir: string;

  constructor(ws: Workspace, private readonly identity: Identity) {
    this.dir = join(ws.nodeDir(identity.name), 'shares');
    ws.mkdirs(this.dir);
  }

  path(h: Holding): string {
    return join(this.dir, `${h.keyId}.${h.epoch}.age`);
  }

  has(h: Holding): boolean {
    return existsSync(this.path(h));
  }

  async put(share: Share): Promise<Holding> {
    const h = { keyId: share.keyId, epoch: share.epoch };
    createFile(this.path(h), await encryptTo([this.identity.recipient], Buffer.from(serializeShare(share), 'utf8')));
    return h;
  }

  async get(h: Holding): Promise<Share> {
    const what = `node ${this.identity.name}'s share of ${h.keyId} epoch ${h.epoch}`;
    if (!this.has(h)) throw new KeyriteError('NOT_HELD', `${this.identity.name} holds no share of key ${h.keyId} at epoch ${h.epoch}`);
    const plain = await decryptWith(this.identity.ageIdentity, readBytes(this.path(h), what), what);
    let value: { engine?: unknown };
    try {
      value = JSON.parse(Buffer.from(plain).toString('utf8'));
    } catch {
      throw new KeyriteError('DAMAGED_FILE', `${what} (${this.path(h)}) does not hold a share`);
    } finally {
      plain.fill(0);
    }
    return getEngine(String(value.engine)).parseShare(value, what);
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
