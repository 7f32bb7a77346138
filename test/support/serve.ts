import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BIN } from './cli.js';

// A real `keyrite node serve` process on 127.0.0.1 (port 0: any free port), resolved once it says
// where it listens; `extra` adds options (--home DIR, --run-timeout S).

export interface Served {
  child: ChildProcess;
  url: string;
}

export function serve(root: string, node: string, extra: string[] = []): Promise<Served> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, '--workspace', root, 'node', 'serve', '--node', node, '--listen', '127.0.0.1:0', ...extra], { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) done({ child, url: m[1]! });
    });
    child.once('exit', (code) => fail(new Error(`node serve ${node} exited (${code}): ${err}`)));
  });
}

/** `--nodes` for the served nodes, node-1 first. */
export const nodesArg = (servers: Served[]): string => servers.map((s, i) => `node-${i + 1}=${s.url}`).join(',');

/** A served node's resident memory, in KiB, from /proc/<pid>/status (Linux). */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}
