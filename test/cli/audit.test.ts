import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyGolden, GOLDEN, goldenAnchors } from '../../fixtures/golden.js';
import { checkpointWords, pgpWords } from '../../src/base/pgpwords.js';
import { lineDigest } from '../../src/evidence/chain.js';
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
  const groups = anchors.head.match(/.{4}/g)!;
  for (const half of [groups.slice(0, 8), groups.slice(8)]) assert.ok(r.stdout.includes(half.join(' ')), 'the last seal shows the witnessed head in hex, eight groups a line');
  assert.ok(r.stdout.replace(/\s+/g, ' ').includes(`checkpoint: ${checkpointWords(anchors.head)}`), 'and its checkpoint in 8 PGP words, broken only at spaces');
  assert.ok(!r.stdout.includes(pgpWords(anchors.head)), 'not all 32 words');
  for (const line of r.stdout.split('\n')) assert.ok([...line].length <= 80 || !/checkpoint:|^ +[0-9a-f]{4} /.test(line), `a digest line fits 80 columns: ${line}`);
  assert.doesNotMatch(r.stdout, /✗/, 'nothing in the golden timeline fails');
});

// The witness's paper (CEREMONY.md, "Witness"): each anchor as written down — hex as printed
// (spaced, over two lines), the 32 words, or the 8-word checkpoint of the first 64 bits.

/** The head (seal line digest) of a golden ceremony. */
function headOf(ceremony: string): string {
  const lines = readFileSync(join(GOLDEN, 'transcripts', `${ceremony}.jsonl`), 'utf8').trimEnd().split('\n');
  return lineDigest(lines.at(-1)!);
}
const spaced = (hex: string) => hex.match(/.{4}/g)!.join(' ');
const verify = (...args: string[]) => keyrite(['--workspace', GOLDEN, '--json', 'audit', 'verify', ...args]);

test('audit verify: anchors as the witness wrote them — spaced hex, 32 words, 8-word checkpoints', async () => {
  const keygen = headOf('0012-keygen');
  for (const args of [
    ['--genesis', spaced(anchors.genesis), '--head', `${spaced(anchors.head)}\n`],
    ['--genesis', pgpWords(anchors.genesis), '--head', pgpWords(anchors.head).toUpperCase()],
    ['--genesis', checkpointWords(anchors.genesis), '--head', checkpointWords(anchors.head), '--checkpoint', checkpointWords(keygen), '--checkpoint', spaced(keygen)],
  ]) {
    const r = await verify(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.equal(r.json.head, anchors.head);
  }
  const r = await verify('--checkpoint', checkpointWords(keygen));
  assert.deepEqual(r.json.checkpoints, [{ checkpoint: keygen.slice(0, 16), digest: keygen, ceremony: '0012-keygen' }]);
  const text = await keyrite(['--workspace', GOLDEN, 'audit', 'verify', '--genesis', checkpointWords(anchors.genesis), '--head', checkpointWords(anchors.head), '--checkpoint', checkpointWords(keygen)]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`checkpoint ${checkpointWords(keygen)}: the head of ceremony 0012-keygen`));
  assert.match(text.stdout, /match the witnessed genesis and head and 1 checkpoint/);
});

test('audit verify: a checkpoint that is no ceremony\'s head, or wrong words for the head, fail by name (exit 1)', async () => {
  // The first line of the keygen is in the chain, but it is not a head: a checkpoint names heads only.
  const notHead = lineDigest(readFileSync(join(GOLDEN, 'transcripts', '0012-keygen.jsonl'), 'utf8').split('\n')[0]!);
  const r = await verify('--checkpoint', checkpointWords(notHead));
  assert.equal(r.code, 1, r.stdout);
  assert.equal(r.json.error.code, 'VERIFY_FAILED');
  assert.ok(r.json.failures.some((f: { reason: string }) => f.reason.includes(checkpointWords(notHead)) && /is not the head of any ceremony/.test(f.reason)), JSON.stringify(r.json.failures));
  const wrongHead = await verify('--head', checkpointWords(headOf('0012-keygen')));
  assert.equal(wrongHead.code, 1);
  assert.ok(wrongHead.json.failures.some((f: { reason: string }) => /is not the witnessed head/.test(f.reason)), JSON.stringify(wrongHead.json.failures));
  const wrongGenesis = await verify('--genesis', checkpointWords(anchors.head));
  assert.equal(wrongGenesis.code, 1);
  assert.ok(wrongGenesis.json.failures.some((f: { reason: string }) => /is not the witnessed genesis/.test(f.reason)), JSON.stringify(wrongGenesis.json.failures));
});

test('audit verify: a misspelt word, words out of place, or the wrong count are usage errors naming the word (exit 2)', async () => {
  const words = checkpointWords(anchors.head).split(' ');
  const misspelt = [...words];
  misspelt[2] = `${misspelt[2]}x`;
  const swapped = [words[1]!, words[0]!, ...words.slice(2)];
  for (const [name, value, message] of [
    ['a misspelt word', misspelt.join(' '), new RegExp(`--head: word 3 of 8, "${misspelt[2]}", is not a PGP word`)],
    ['words out of place', swapped.join(' '), new RegExp(`--head: word 1 of 8, "${words[1]}", is out of place`)],
    ['seven words', words.slice(1).join(' '), /--head takes 8 PGP words \(a checkpoint\) or 32 \(a full digest\); got 7 words/],
    ['63 hex digits', anchors.head.slice(1), /--head must be a sha256 digest in hex \(64 digits\).*got 63 hex digits/],
  ] as const) {
    const r = await verify('--head', value);
    assert.equal(r.code, 2, `${name}: ${r.stdout}`);
    assert.equal(r.json.error.code, 'USAGE', name);
    assert.match(r.json.error.message, message, name);
  }
});
