import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// No core dump of a process that holds secrets: a crash of `keyrite sign` must not leave the
// shares it opened in a core file. Node has no setrlimit(2), so on Linux the process asks
// util-linux's prlimit(1) (by absolute path, never through PATH) to set its own RLIMIT_CORE to
// 0, soft and hard, before any command runs. Where there is no prlimit (macOS, say) nothing is
// set and nothing is refused: README's honest limits tell the operator to run `ulimit -c 0`.

const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'];

/** Sets this process's core-file limit to 0 where the platform allows; says whether it did. */
export function disableCoreDumps(): boolean {
  if (process.platform !== 'linux') return false;
  const tool = PRLIMIT.find((p) => existsSync(p));
  if (!tool) return false;
  const r = spawnSync(tool, ['--pid', String(process.pid), '--core=0:0'], { stdio: 'ignore', timeout: 5_000, env: {} });
  return r.status === 0;
}
