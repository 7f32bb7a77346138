#!/usr/bin/env node
// `npm test`: runs every test file (test/*.test.ts, test/*/*.test.ts, test/*/*/*.test.ts) under
// node --test with TMPDIR set to a fresh directory, then fails, listing what is left, if any test
// left a file there: workspaces hold key files and passphrases (README "Tests"). The directory is
// removed either way. Files named on the command line run instead of the full set.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The test files at depth 1 to 3 under test/, as the shell globs test/*.test.ts … would give them. */
function testFiles(dir, depth) {
  return readdirSync(join(root, dir), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) return depth > 1 ? testFiles(rel, depth - 1) : [];
      return e.name.endsWith('.test.ts') ? [rel] : [];
    });
}

const files = process.argv.length > 2 ? process.argv.slice(2) : testFiles('test', 3);
const tmp = mkdtempSync(join(tmpdir(), 'keyrite-npm-test-'));
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: tmp },
});
// tsx keeps its transpile cache in TMPDIR/tsx-<uid>: the test runner's, not a test's.
const left = readdirSync(tmp).filter((n) => !/^tsx-\w+$/.test(n));
rmSync(tmp, { recursive: true, force: true });
if (left.length > 0) {
  process.stderr.write(`\nThe tests left ${left.length} temporary entr${left.length === 1 ? 'y' : 'ies'} in TMPDIR (${tmp}, now removed):\n${left.map((n) => `  ${n}\n`).join('')}Make each test create its directories with tempDir() from test/support/cli.ts.\n`);
  process.exit(1);
}
process.exit(run.status ?? 1);
