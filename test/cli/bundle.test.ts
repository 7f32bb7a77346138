import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readLines, statementOf } from '../../fixtures/chain-tools.js';
import { keyrite, ROOT, tempDir } from '../support/cli.js';

// README "Air-gap install": `npm run bundle` makes one file that, copied alone into an empty
// directory (no node_modules, no package.json, no ceremonies/), runs the whole demo; its sha256 is
// the digest `--version --json` prints and the tool digest every transcript entry records.

test('the single-file build runs the demo alone in an empty directory, and its sha256 is the tool digest of every entry', async () => {
  const out = execFileSync('npm', ['run', '--silent', 'bundle'], { cwd: ROOT, encoding: 'utf8' });
  const built = join(ROOT, 'dist', 'keyrite.mjs');
  assert.match(out, new RegExp(`^${built}\\nsha256 [0-9a-f]{64}\\n$`));
  const dir = tempDir('keyrite-bundle-');
  const bin = join(dir, 'keyrite.mjs');
  copyFileSync(built, bin);
  const sha = createHash('sha256').update(readFileSync(bin)).digest('hex');
  assert.ok(out.endsWith(`sha256 ${sha}\n`));
  assert.deepEqual(readdirSync(dir), ['keyrite.mjs']);

  const version = await keyrite(['--version', '--json'], { cwd: dir, bin });
  assert.equal(version.code, 0, version.stderr);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.deepEqual(version.json, { ok: true, name: 'keyrite', version: pkg.version, digest: sha });

  const ws = join(dir, 'ws');
  const demo = await keyrite(['--workspace', ws, 'demo', '--json'], { cwd: dir, bin });
  assert.equal(demo.code, 0, demo.stdout + demo.stderr);
  const files = readdirSync(join(ws, 'transcripts')).filter((f) => f.endsWith('.jsonl'));
  assert.ok(files.length > 10, `the demo wrote its ceremonies (${files.length})`);
  const tools = new Set(files.flatMap((f) => readLines(join(ws, 'transcripts', f)).map((l) => {
    const { name, version, digest } = statementOf(l).predicate.tool;
    return `${name} ${version} ${digest}`;
  })));
  assert.deepEqual([...tools], [`keyrite ${pkg.version} ${sha}`]);

  // The bundle's own auditor accepts what it wrote.
  const verify = await keyrite(['--workspace', ws, 'audit', 'verify', '--json'], { cwd: dir, bin });
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.equal(verify.json.ok, true);
});
