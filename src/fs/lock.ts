import { closeSync, constants, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KeyriteError } from '../base/errors.js';

export class WorkspaceBusyError extends KeyriteError {
  constructor(readonly path: string, holder: string) {
    super(
      'WORKSPACE_BUSY',
      `the workspace is in use by another keyrite command (${holder.trim() || 'unknown'}); ` +
        `wait for it to finish. If no keyrite command is running, remove ${path}.`,
    );
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One ceremony at a time per workspace. The lock file names its holder; a lock whose holder
 * process is gone (a crash) is taken over, since a dead process cannot be mid-write. The
 * takeover renames the stale file aside first: rename is atomic, so of two processes that
 * both find the same stale lock only one moves it, and neither can remove a fresh one.
 */
export function acquireLock(workspace: string, what: string): () => void {
  const path = join(workspace, '.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      writeSync(fd, `${process.pid} ${what}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readHolder(path);
      if (holder === undefined) continue; // released meanwhile: try again
      const pid = Number(holder.split(' ')[0]);
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) throw new WorkspaceBusyError(path, holder);
      const aside = `${path}.stale-${process.pid}`;
      try {
        renameSync(path, aside);
        // Someone may have taken the stale lock over between our read and our rename: put
        // their live lock back (link never replaces a file).
        if (readHolder(aside) !== holder) linkSync(aside, path);
      } catch {
        /* another process moved it first, or holds the lock now: the next attempt tells */
      }
      rmSync(aside, { force: true });
    }
  }
  throw new WorkspaceBusyError(path, 'unknown');
}

function readHolder(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Runs `work` holding the workspace lock. */
export async function withLock<T>(workspace: string, what: string, work: () => Promise<T>): Promise<T> {
  const release = acquireLock(workspace, what);
  try {
    return await work();
  } finally {
    release();
  }
}
