import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Runs the real built CLI (bin/keyrite → dist/) as a child process, without a TTY and with CI
// set, the way scripts drive it.

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'keyrite');
export const SHARED = resolve(ROOT, '..', 'shared');

// Every directory tempDir() makes is removed when this test file's process exits (node --test
// runs each file in its own process), pass or fail: workspaces hold key files and passphrases.
// `npm test` (test/run.mjs) fails if anything is left in its TMPDIR.
const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the temp directory, removed when the test process exits. */
export function tempDir(prefix = 'keyrite-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Where the CLI keeps its verified-state memos (src/audit/memo.ts) during the tests: never the tester's home. */
const STATE_HOME = (process.env.XDG_STATE_HOME ??= tempDir('keyrite-state-'));

export interface Run {
  code: number;
  /** The signal that ended the process, if one did (a crash test's SIGKILL). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  json: any;
}

/** Runs keyrite with `args`; `bin` runs another copy of the package (default: this checkout's). */
export function keyrite(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string; bin?: string } = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, CI: 'true', NO_COLOR: '1', XDG_STATE_HOME: STATE_HOME, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code, signal) => {
      let json: any;
      if (args.includes('--json')) {
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
      }
      done({ code: code ?? -1, signal, stdout, stderr, json });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Writes a passphrase file (0600) and returns its path. */
export function passphraseFile(dir: string, name: string, passphrase = `${name} passphrase horse battery`): string {
  const p = join(dir, `${name}.pass`);
  writeFileSync(p, passphrase + '\n', { mode: 0o600 });
  return p;
}

/** Every regular file under `dir`, recursively, with its bytes. */
export function allFiles(dir: string): { path: string; bytes: Buffer; mode: number }[] {
  const out: { path: string; bytes: Buffer; mode: number }[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...allFiles(p));
    else if (st.isFile()) out.push({ path: p, bytes: readFileSync(p), mode: st.mode & 0o777 });
  }
  return out;
}

/** A snapshot of a directory tree (path → sha-free content), to prove nothing changed. */
export function snapshot(dir: string): Map<string, string> {
  return new Map(allFiles(dir).map((f) => [f.path, f.bytes.toString('base64') + ':' + f.mode]));
}
