import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyGolden } from '../../fixtures/golden.js';
import { readLines, statementOf, writeLines } from '../../fixtures/chain-tools.js';

// The auditor's by-hand recipe in CEREMONY.md ("Checking one entry by hand"), run as written
// with jq and openssl on an entry the product wrote (the golden keygen result): no keyrite code
// involved.

const runbook = readFileSync(new URL('../../CEREMONY.md', import.meta.url), 'utf8');
const section = runbook.slice(runbook.indexOf('### Checking one entry by hand'));
const recipe = section.slice(section.indexOf('```sh\n') + 6, section.indexOf('\n```', section.indexOf('```sh\n')));
const KEYGEN = 'transcripts/0012-keygen.jsonl';

function runRecipe(dir: string, file: string, line: number): { out: string; err: string } {
  const script = recipe.replace(/^T=\S+ N=\S+/, `T=${file} N=${line}`);
  const r = spawnSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8' });
  return { out: r.stdout, err: r.stderr };
}

/** The 1-based line of the keygen result in `dir`'s keygen transcript. */
function keygenResultLine(dir: string): number {
  const n = readLines(join(dir, KEYGEN)).findIndex((l) => statementOf(l).predicate.step === 'keygen.result');
  assert.ok(n > 0, 'the keygen transcript records keygen.result after its first line');
  return n + 1;
}

test('the by-hand recipe verifies a real entry\'s signature and chain link', () => {
  const dir = copyGolden('keyrite-openssl-');
  const { out, err } = runRecipe(dir, KEYGEN, keygenResultLine(dir));
  assert.match(out + err, /Signature Verified Successfully/);
  const [computed, recorded] = out.trim().split('\n').slice(-2);
  assert.match(computed!, /^[0-9a-f]{64}$/);
  assert.equal(computed, recorded, 'prev must be the sha256 of the previous line');
});

test('the by-hand recipe rejects an entry whose payload was altered', () => {
  const dir = copyGolden('keyrite-openssl-');
  const n = keygenResultLine(dir);
  const path = join(dir, KEYGEN);
  const lines = readLines(path);
  const env = JSON.parse(lines[n - 1]!);
  const payload = Buffer.from(env.payload, 'base64').toString();
  assert.ok(payload.includes('"epoch":1'), 'keygen.result records epoch 1');
  env.payload = Buffer.from(payload.replace('"epoch":1', '"epoch":7')).toString('base64');
  lines[n - 1] = JSON.stringify(env);
  writeLines(path, lines);
  const { out, err } = runRecipe(dir, KEYGEN, n);
  assert.match(out + err, /Signature Verification Failure/);
});
