import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendDurably } from '../fs/atomic.js';
import type { BanNotice } from '../engine/index.js';

// The parties this node has seen fail an ecdsa consistency check (docs/ARCHITECTURE.md §3):
// repeated selective failures of the OT-based multiplication can leak an honest holder's share,
// so after one failure the node refuses to sign that key's epoch with that party again — also
// after a restart — until a refresh renews every pairwise OT state (epoch + 1). The log is
// <home>/bans, one JSON object a line, appended and fsynced before the node answers.

export interface Ban {
  keyId: string;
  epoch: number;
  party: string;
  check: string;
}

const isBan = (b: Partial<Ban> | null): b is Ban =>
  typeof b === 'object' && b !== null && typeof b.keyId === 'string' && Number.isSafeInteger(b.epoch) && typeof b.party === 'string' && typeof b.check === 'string';

function parse(line: string): Ban | null {
  try {
    const b = JSON.parse(line) as Partial<Ban> | null;
    return isBan(b) ? { keyId: b.keyId, epoch: b.epoch, party: b.party, check: b.check } : null;
  } catch {
    return null; // a torn last line from a crash mid-append: the ban it held is lost, and is re-learnt on the next failure
  }
}

export class BanLog {
  private readonly bans: Ban[];
  private torn: boolean;

  constructor(private readonly path: string) {
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    this.bans = text.split('\n').map(parse).filter((b): b is Ban => b !== null);
    this.torn = text !== '' && !text.endsWith('\n');
  }

  static of(home: string): BanLog {
    return new BanLog(join(home, 'bans'));
  }

  /** The parties banned from signing `keyId` at `epoch`. */
  of(keyId: string, epoch: number): string[] {
    return [...new Set(this.bans.filter((b) => b.keyId === keyId && b.epoch === epoch).map((b) => b.party))];
  }

  all(): Ban[] {
    return [...this.bans];
  }

  /** Remembers a failed check for good; durable when it returns. */
  add(keyId: string, epoch: number, notice: BanNotice): void {
    const ban: Ban = { keyId, epoch, party: notice.party, check: notice.check };
    appendDurably(this.path, `${this.torn ? '\n' : ''}${JSON.stringify(ban)}\n`, { mode: 0o600 });
    this.torn = false;
    this.bans.push(ban);
  }
}
