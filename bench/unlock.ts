import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_WORK_FACTOR } from '../src/base/kdf.js';
import { lockIdentity, newIdentity, unlockIdentity } from '../src/custody/identity.js';
import { ms, paired, QUICK, row, type Row } from './table.js';

// Unlocking an identity file at keyrite's default scrypt work factor (2^18), in process, beside
// the real age CLI decrypting the same file with the same passphrase. age reads a passphrase
// only from a terminal, so it runs under `script`, which gives it a pty fed from stdin (as
// test/base/age-interop.test.ts does); the floor therefore includes starting script and age.
// Target (issue 13): ≤ 1.3×.

const TARGET = 1.3;

export async function rows(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keyrite-bench-unlock-'));
  try {
    const passphrase = 'bench passphrase correct horse battery staple';
    const file = join(dir, 'bench.identity.age');
    writeFileSync(file, await lockIdentity(await newIdentity('bench', 'custodian'), passphrase, DEFAULT_WORK_FACTOR), { mode: 0o600 });
    const bytes = readFileSync(file);
    const age = () => {
      const r = spawnSync('script', ['-qec', `age -d -o /dev/null '${file}'`, '/dev/null'], { input: passphrase + '\n' });
      if (r.status !== 0) throw new Error(`age -d failed under script: ${r.stdout}${r.stderr}`);
    };
    const runs = QUICK ? 2 : 5;
    const [k, floor] = await paired(runs, () => unlockIdentity(bytes, passphrase, file), age);
    return [row(`identity unlock, scrypt 2^${DEFAULT_WORK_FACTOR}`, ms(k), { ...ms(floor), what: 'age -d of the same file, under script' }, TARGET, 'lower', `median of ${runs}, interleaved`)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
