import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyGolden, GOLDEN, goldenAnchors } from '../../fixtures/golden.js';
import { pgpWords } from '../../src/base/pgpwords.js';
import { keyrite } from '../support/cli.js';

// keyrite audit verify|show through the real built CLI, on the workspace the product wrote
// (fixtures/golden): exit codes and the --json contract. If `audit` were missing from the CLI,
// every case here fails (exit 2, unknown command); none skips itself.

const anchors = goldenAnchors();

test('audit verify: exit 0 and entries, ceremonies, head under --json', async () => {
  const r = await keyrite(['--workspace', GOLDEN, '--json', 'audit', 'verify', '--genesis', anchors.genesis, '--head', anchors.head]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual({ ok: r.json.ok, entries: r.json.entries, ceremonies: r.json.ceremonies, head: r.json.head }, { ok: true, entries: 147, ceremonies: 19, head: anchors.head });
});

test('audit verify: exit 1 with failures naming file, line and reason', async () => {
  const root = copyGolden('keyrite-cli-');
  const path = join(root, 'transcripts', '0013-sign.jsonl');
  const lines = readFileSync(path, 'utf8').split('\n');
  [lines[1], lines[2]] = [lines[2]!, lines[1]!];
  writeFileSync(path, lines.join('\n'));
  const r = await keyrite(['--workspace', root, '--json', 'audit', 'verify']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(r.json.ok, false);
  assert.equal(r.json.error.code, 'VERIFY_FAILED');
  assert.ok(r.json.failures.some((f: { file: string; line: number; reason: string }) => f.file === 'transcripts/0013-sign.jsonl' && f.line === 2 && /seq 2 where 1 was expected/.test(f.reason)), JSON.stringify(r.json.failures));
  const human = await keyrite(['--workspace', root, 'audit', 'verify']);
  assert.equal(human.code, 1);
  assert.match(human.stderr, /transcripts\/0013-sign\.jsonl:2: seq 2 where 1 was expected/);
});

test('audit verify: a head that is not the witnessed one fails (exit 1) and names the last line', async () => {
  const r = await keyrite(['--workspace', GOLDEN, '--json', 'audit', 'verify', '--head', anchors.genesis]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const last = readFileSync(join(GOLDEN, 'transcripts', '0019-sign.jsonl'), 'utf8').trim().split('\n').length;
  assert.ok(r.json.failures.some((f: { file: string; line: number; reason: string }) => f.file === 'transcripts/0019-sign.jsonl' && f.line === last && /is not the witnessed head/.test(f.reason)), JSON.stringify(r.json.failures));
});

test('audit verify: a malformed anchor is a usage error (exit 2)', async () => {
  const r = await keyrite(['--workspace', GOLDEN, '--json', 'audit', 'verify', '--head', 'abc']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.equal(r.json.error.code, 'USAGE');
  assert.match(r.json.error.message, /--head must be a sha256 digest/);
});

test('audit show: a timeline with ✓ per signature, seals in PGP words, interruptions marked', async () => {
  const r = await keyrite(['--workspace', GOLDEN, 'audit', 'show']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /── transcripts\/0012-keygen\.jsonl/);
  assert.match(r.stdout, /✓ +\d+ \S+ +ceremony\.seal +by gen +\[✓ gen \(generator\), ✓ wit \(witness\)\]/);
  assert.match(r.stdout, /⚠ ceremony 0014-shard-check was interrupted/);
  assert.ok(r.stdout.includes(anchors.head.match(/.{4}/g)!.join(' ')), 'the last seal shows the witnessed head in hex');
  assert.ok(r.stdout.includes(pgpWords(anchors.head)), 'and in PGP words');
  assert.doesNotMatch(r.stdout, /✗/, 'nothing in the golden timeline fails');
});
