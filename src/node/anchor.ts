import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFile } from '../fs/atomic.js';

// The history a node has accepted (docs/ARCHITECTURE.md §2, "State from evidence"): the genesis
// digest of the workspace it serves and the last head it acted on, in <home>/anchor.json. A node
// refuses a history with another genesis, or one that no longer holds that head: a workspace
// rewound to an earlier point, or replaced by another history built around the same node keys.
// The first history a new node sees is trusted on first use.

export interface Anchor {
  genesis: string;
  head: string;
}

const DIGEST = /^[0-9a-f]{64}$/;

export class AnchorFile {
  constructor(private readonly path: string) {}

  static of(home: string): AnchorFile {
    return new AnchorFile(join(home, 'anchor.json'));
  }

  /** The anchor, or null before the node first acted; a damaged file is no anchor and fails closed. */
  read(): Anchor | null {
    if (!existsSync(this.path)) return null;
    const a = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<Anchor>;
    if (typeof a.genesis !== 'string' || !DIGEST.test(a.genesis) || typeof a.head !== 'string' || !DIGEST.test(a.head)) {
      throw new Error(`${this.path} is not a node's anchor`);
    }
    return { genesis: a.genesis, head: a.head };
  }

  write(a: Anchor): void {
    replaceFile(this.path, JSON.stringify(a) + '\n', 0o600);
  }
}
