import { closeSync, constants, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KeyriteError } from '../errors.js';

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
 * process is gone (a crash) is taken over, since a dead process cannot be mid-write.
 */
export function acquireLock(workspace: string, what: string): () => void {
  const path = join(workspace, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      writeSync(fd, `${process.pid} ${what}\n`);
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = '';
      try {
        holder = readFileSync(path, 'utf8');
      } catch {
        continue;
      }
      const pid = Number(holder.split(' ')[0]);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new WorkspaceBusyError(path, holder);
      }
      unlinkSync(path);
    }
  }
  throw new WorkspaceBusyError(path, 'unknown');
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
