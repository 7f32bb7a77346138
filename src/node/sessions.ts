import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { appendDurably } from '../fs/atomic.js';
import { readBytes } from '../fs/workspace.js';

// Every signing session a node has started, so it never signs for one twice (docs/ARCHITECTURE.md §5: a
// replayed message aborts the run): a request captured and sent again in a fresh, validly signed
// call, or sent again after the node restarted, names a session already used. The list is
// <home>/sessions, one id a line, appended and fsynced before the node computes anything.

const SESSION_ID = /^[0-9a-f]{64}$/;
const MAX_LOG_BYTES = 256 * 1024 * 1024; // a million sessions

export class SessionLog {
  private readonly used: Set<string>;
  private torn: boolean; // a crash mid-append left a partial last line: the next id starts a line of its own

  constructor(private readonly path: string) {
    const text = existsSync(path) ? readBytes(path, 'the session log of the node', MAX_LOG_BYTES).toString('utf8') : '';
    this.used = new Set(text.split('\n').filter((l) => SESSION_ID.test(l)));
    this.torn = text !== '' && !text.endsWith('\n');
  }

  static of(home: string): SessionLog {
    return new SessionLog(join(home, 'sessions'));
  }

  has(sessionId: string): boolean {
    return this.used.has(sessionId);
  }

  /** Remembers `sessionId` for good; durable when it returns. */
  add(sessionId: string): void {
    appendDurably(this.path, `${this.torn ? '\n' : ''}${sessionId}\n`, { mode: 0o600 });
    this.torn = false;
    this.used.add(sessionId);
  }
}
