import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyGolden, PEOPLE } from '../../fixtures/golden.js';
import { readLines } from '../../fixtures/chain-tools.js';
import { MAX_LINE_BYTES } from '../../src/evidence/chain.js';
import { keyrite, snapshot, tempDir } from '../support/cli.js';
import { assertUnchanged, refused } from '../support/workspace.js';

// What a transcript file may be, through the real CLI on the golden workspace. Finding 13 of the
// security review: a symbolic link in place of the last transcript, pointing outside the
// workspace, with a torn tail to tempt the writer into truncating it, is refused, and the file
// it points to is untouched; a directory in place of a transcript likewise. Finding 14 (the
// line reader): a line just over the 8 MiB cap is a clear 'form' failure naming the file and
// line, within seconds, and never read whole.

const LAST = 'transcripts/0019-sign.jsonl';
const guardianCheck = (root: string) =>
  keyrite(['--workspace', root, '--json', '--yes', 'guardian', 'check', '--guardian', 'gal-1', '--custodian', 'alice', '--passphrase-file', `gal-1=${join(PEOPLE, 'gal-1.pass')}`]);

interface Failure {
  file: string;
  line: number;
  kind: string;
  reason: string;
}
const failuresOf = async (root: string): Promise<Failure[]> => refused(await keyrite(['--workspace', root, '--json', 'audit', 'verify']), 1, 'VERIFY_FAILED').failures;

test('a last transcript symlinked outside the workspace is refused, and the outside file is untouched', async () => {
  const root = copyGolden();
  const outside = join(tempDir('keyrite-outside-'), 'victim.jsonl');
  renameSync(join(root, LAST), outside);
  appendFileSync(outside, '{"payload":"a torn fragment'); // what would make the writer truncate it
  symlinkSync(outside, join(root, LAST));
  const victim = readFileSync(outside);
  const before = snapshot(root);

  const next = await guardianCheck(root);
  refused(next, 1, 'TRANSCRIPT_DAMAGED', [LAST, 'symbolic link']);
  assert.deepEqual(readFileSync(outside), victim, 'the file outside the workspace is untouched');
  assertUnchanged(before, snapshot(root), 'the workspace');
  const failures = await failuresOf(root);
  assert.ok(failures.some((f) => f.file === LAST && f.line === 0 && f.kind === 'form' && /symbolic link/.test(f.reason)), JSON.stringify(failures));
  assert.deepEqual(readFileSync(outside), victim);
});

test('a directory in place of a transcript is refused by name', async () => {
  const root = copyGolden();
  mkdirSync(join(root, 'transcripts', '0020-sign.jsonl'));
  refused(await guardianCheck(root), 1, 'TRANSCRIPT_DAMAGED', ['transcripts/0020-sign.jsonl', 'a directory']);
  const failures = await failuresOf(root);
  assert.ok(failures.some((f) => f.file === 'transcripts/0020-sign.jsonl' && f.kind === 'form' && /a directory/.test(f.reason)), JSON.stringify(failures));
});

test('a line just over the 8 MiB cap is a form failure naming the file and line, quickly', { timeout: 60_000 }, async () => {
  const root = copyGolden();
  const lines = readLines(join(root, LAST)).length;
  appendFileSync(join(root, LAST), 'x'.repeat(MAX_LINE_BYTES + 1) + '\n');
  const started = Date.now();
  const failures = await failuresOf(root);
  assert.ok(Date.now() - started < 15_000, `audit verify took ${Date.now() - started} ms`);
  assert.ok(failures.some((f) => f.file === LAST && f.line === lines + 1 && f.kind === 'form' && /longer than 8 MiB, the cap on a transcript line/.test(f.reason)), JSON.stringify(failures));
  refused(await guardianCheck(root), 1, 'TRANSCRIPT_DAMAGED', [`${LAST}:${lines + 1}`, '8 MiB']);
});

test('a line at the cap is read (and judged on its content); so is a final fragment over it, without a newline', { timeout: 60_000 }, async () => {
  const root = copyGolden();
  const lines = readLines(join(root, LAST)).length;
  appendFileSync(join(root, LAST), 'x'.repeat(MAX_LINE_BYTES) + '\n');
  let failures = await failuresOf(root);
  assert.ok(failures.some((f) => f.file === LAST && f.line === lines + 1 && f.kind === 'form' && /not valid JSON/.test(f.reason)), JSON.stringify(failures));
  assert.ok(!failures.some((f) => /cap/.test(f.reason)));
  writeFileSync(join(root, LAST), readFileSync(join(root, LAST)).subarray(0, -(MAX_LINE_BYTES + 1)));
  appendFileSync(join(root, LAST), 'y'.repeat(MAX_LINE_BYTES + 5)); // a torn write cannot be that long either
  failures = await failuresOf(root);
  assert.ok(failures.some((f) => f.file === LAST && f.line === lines + 1 && f.kind === 'form' && /cap/.test(f.reason)), JSON.stringify(failures));
});
