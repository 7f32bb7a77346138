import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyGolden, GOLDEN, PEOPLE } from '../../fixtures/golden.js';
import { loadFixtureKeys, readChain, writeChain, type ChainEntry } from '../../fixtures/chain-tools.js';
import { printable } from '../../src/cli/format/common.js';
import { keyrite } from '../support/cli.js';
import { refused } from '../support/workspace.js';

// Finding 12 of the security review, through the real CLI: whoever writes a transcript line
// (any signer, or anyone editing the file) chooses its text. A newline or a terminal escape in
// an abort message must not print as a timeline line of its own, and a `time` that is not
// ISO 8601 is refused as a 'form' failure. The forgeries are validly signed with the fixture's
// own keys, so the only defect is the planted text.

const keys = await loadFixtureKeys(GOLDEN, PEOPLE);
const FORGED = '✓   9 2031-01-01T00:00:00.000Z  ceremony.seal  by gen  [✓ gen (generator), ✓ wit (witness)]';

function forge(edit: (entries: ChainEntry[]) => void): string {
  const root = copyGolden('keyrite-escapes-');
  const entries = readChain(root, keys);
  edit(entries);
  writeChain(root, entries);
  return root;
}

const lastOf = (entries: ChainEntry[], ceremony: string, step: string): ChainEntry =>
  entries.filter((e) => e.ceremony === ceremony && e.statement.predicate.step === step).at(-1)!;

test('a newline and an escape sequence in an abort message cannot forge a timeline line', async () => {
  const root = forge((entries) => {
    const seal = lastOf(entries, '0019-sign', 'ceremony.seal');
    seal.statement.predicate.step = 'ceremony.abort';
    seal.statement.predicate.params = {};
    seal.statement.predicate.result = { code: 'DECLINED', message: `no\n${FORGED}\r\u001b[2K\u2028x` };
    seal.signers = seal.signers.slice(0, 1);
  });
  const r = await keyrite(['--workspace', root, 'audit', 'show']);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  const lines = r.stdout.split('\n');
  assert.ok(!lines.some((l) => l.startsWith('✓   9 2031-01-01')), 'the forged line is not printed as a line of its own');
  assert.ok(!/[\r\u001b\u2028]/.test(r.stdout), 'no raw control character reaches the terminal');
  assert.ok(lines.some((l) => l.includes('⚠ aborted: no\\u{a}✓   9 2031-01-01') && l.includes('\\u{d}\\u{1b}[2K\\u{2028}x')), r.stdout);
  const json = await keyrite(['--workspace', root, '--json', 'audit', 'show']);
  assert.equal(json.json.timeline.length > 0, true, 'under --json the text stays data, escaped by JSON itself');
});

test('a time that is not ISO 8601 is a form failure naming the file and line, and is never printed raw', async () => {
  const root = forge((entries) => {
    lastOf(entries, '0019-sign', 'sign.result').statement.predicate.time = `2026-12-01T00:00:00.000Z\n${FORGED}`;
  });
  const verify = await keyrite(['--workspace', root, '--json', 'audit', 'verify']);
  const failures = refused(verify, 1, 'VERIFY_FAILED').failures as { file: string; line: number; kind: string; reason: string }[];
  assert.ok(failures.some((f) => f.file === 'transcripts/0019-sign.jsonl' && f.kind === 'form' && /time \(ISO 8601\)/.test(f.reason)), JSON.stringify(failures, null, 1));
  const show = await keyrite(['--workspace', root, 'audit', 'show']);
  assert.ok(!show.stdout.split('\n').some((l) => l.startsWith('✓   9 2031-01-01')), show.stdout);
  assert.match(show.stdout, /✗ transcripts\/0019-sign\.jsonl:\d+ unreadable/);
  assert.match(show.stdout, /✗ not a keyrite entry: predicate field time \(ISO 8601\) is missing or malformed/);
});

test('printable escapes C0, C1, DEL, line separators, bidi overrides and the backslash, and nothing else', () => {
  assert.equal(printable('a\nb\tc\u0000\u007f\u0085\u2029\u202e\u2066\\ é ✓'), 'a\\u{a}b\\u{9}c\\u{0}\\u{7f}\\u{85}\\u{2029}\\u{202e}\\u{2066}\\\\ é ✓');
  assert.equal(printable('2026-12-01T00:00:00.000Z'), '2026-12-01T00:00:00.000Z');
});
