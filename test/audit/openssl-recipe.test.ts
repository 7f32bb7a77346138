import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN } from '../../fixtures/generate.js';
import { readLines, writeLines } from '../../fixtures/chain-tools.js';

// The auditor's by-hand recipe in CEREMONY.md ("Checking one entry by hand"), run as written
// with jq and openssl on a real golden entry: no keyrite code involved.

const runbook = readFileSync(new URL('../../CEREMONY.md', import.meta.url), 'utf8');
const section = runbook.slice(runbook.indexOf('### Checking one entry by hand'));
const recipe = section.slice(section.indexOf('```sh\n') + 6, section.indexOf('\n```', section.indexOf('```sh\n')));

function runRecipe(dir: string, file: string, line: number): { out: string; err: string } {
  const script = recipe.replace(/^T=\S+ N=\S+/, `T=${file} N=${line}`);
  const r = spawnSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8' });
  return { out: r.stdout, err: r.stderr };
}

test('the by-hand recipe verifies a real entry\'s signature and chain link', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyrite-openssl-'));
  cpSync(GOLDEN, dir, { recursive: true });
  const { out, err } = runRecipe(dir, 'transcripts/0012-keygen.jsonl', 3);
  assert.match(out + err, /Signature Verified Successfully/);
  const [computed, recorded] = out.trim().split('\n').slice(-2);
  assert.match(computed!, /^[0-9a-f]{64}$/);
  assert.equal(computed, recorded, 'prev must be the sha256 of the previous line');
});

test('the by-hand recipe rejects an entry whose payload was altered', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyrite-openssl-'));
  cpSync(GOLDEN, dir, { recursive: true });
  const path = join(dir, 'transcripts/0012-keygen.jsonl');
  const lines = readLines(path);
  const env = JSON.parse(lines[2]!);
  env.payload = Buffer.from(Buffer.from(env.payload, 'base64').toString().replace('"epoch":1', '"epoch":7')).toString('base64');
  lines[2] = JSON.stringify(env);
  writeLines(path, lines);
  const { out, err } = runRecipe(dir, 'transcripts/0012-keygen.jsonl', 3);
  assert.match(out + err, /Signature Verification Failure/);
});
