import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN } from '../../fixtures/generate.js';

// keyrite audit verify|show through the real entry point: exit codes and the --json contract.

const anchors = JSON.parse(readFileSync(join(GOLDEN, '..', 'golden.json'), 'utf8')) as { genesis: string; head: string };
const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function keyrite(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', `import(${JSON.stringify(main)}).then((m) => m.main(process.argv))`, 'keyrite', ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: '1', NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('audit verify: exit 0 and entries, ceremonies, head under --json', () => {
  const r = keyrite('--workspace', GOLDEN, '--json', 'audit', 'verify', '--genesis', anchors.genesis, '--head', anchors.head);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.deepEqual({ ok: j.ok, entries: j.entries, ceremonies: j.ceremonies, head: j.head }, { ok: true, entries: 83, ceremonies: 19, head: anchors.head });
});

test('audit verify: exit 1 with failures naming file, line and reason', () => {
  const root = mkdtempSync(join(tmpdir(), 'keyrite-cli-'));
  cpSync(GOLDEN, root, { recursive: true });
  const path = join(root, 'transcripts', '0013-sign.jsonl');
  const lines = readFileSync(path, 'utf8').split('\n');
  [lines[1], lines[2]] = [lines[2]!, lines[1]!];
  writeFileSync(path, lines.join('\n'));
  const r = keyrite('--workspace', root, '--json', 'audit', 'verify');
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out);
  assert.equal(j.ok, false);
  assert.equal(j.error.code, 'VERIFY_FAILED');
  assert.ok(j.failures.some((f: { file: string; line: number; reason: string }) => f.file === 'transcripts/0013-sign.jsonl' && f.line === 2 && /seq/.test(f.reason)));
  const human = keyrite('--workspace', root, 'audit', 'verify');
  assert.equal(human.code, 1);
  assert.match(human.err, /transcripts\/0013-sign\.jsonl:2: seq 2 where 1 was expected/);
});

test('audit verify: a malformed anchor is a usage error (exit 2)', () => {
  assert.equal(keyrite('--workspace', GOLDEN, 'audit', 'verify', '--head', 'abc').code, 2);
});

test('audit show: a timeline with ✓ per signature, seals in PGP words, interruptions marked', () => {
  const r = keyrite('--workspace', GOLDEN, 'audit', 'show');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /── transcripts\/0012-keygen\.jsonl/);
  assert.match(r.out, /✓ +\d+ \S+ +ceremony\.seal +by gen +\[✓ gen \(generator\), ✓ wit \(witness\)\]/);
  assert.match(r.out, /⚠ ceremony 0014-shard-check was interrupted/);
  assert.match(r.out, new RegExp(anchors.head.slice(0, 4)));
});
