import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { sha256Hex } from '../../src/base/canonical.js';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { flipCiphertextByte, makeWorkspace, ok, readJsonFile, refused, watch, type TestWorkspace } from '../support/workspace.js';

// `guardian check`: a guardian proves their share opens and belongs to the current set.

let w: TestWorkspace;
before(async () => {
  w = await makeWorkspace({ k: 2, m: 3 });
});

function check(g: string, extra: string[] = []) {
  return w.kr(['guardian', 'check', '--json', '--guardian', g, '--custodian', 'alice', ...w.passArgs(g), ...extra]);
}

test('a good share opens: exit 0, with its place in the set', async () => {
  const set = readJsonFile(w.setFile('alice'));
  for (const [n, g] of ['g1', 'g2', 'g3'].entries()) {
    const r = ok(await check(g), `check ${g}`);
    assert.equal(r.guardian, g);
    assert.equal(r.custodian, 'alice');
    assert.equal(r.index, n + 1);
    assert.equal(r.k, 2);
    assert.equal(r.m, 3);
    assert.equal(r.setId, set.setId);
    assert.equal(r.path, w.shareFile(g, 'alice'));
  }
});

test('a share with one flipped ciphertext byte is refused and named', async () => {
  const x = readJsonFile(w.shareFile('g1', 'alice'));
  x.share = flipCiphertextByte(x.share);
  const t = join(w.base, 'g1-tampered.json');
  writeFileSync(t, JSON.stringify(x, null, 2) + '\n', { mode: 0o600 });
  const unchanged = watch(w.root);
  refused(await check('g1', ['--share', `g1=${t}`]), 1, 'BAD_SIGNATURE', ['g1', t]);
  unchanged();
});

test('a share tampered in place (index changed) is refused and named', async () => {
  const path = w.shareFile('g2', 'alice');
  const original = readFileSync(path);
  try {
    const x = JSON.parse(original.toString('utf8'));
    x.index = 1;
    writeFileSync(path, JSON.stringify(x, null, 2) + '\n');
    const unchanged = watch(w.root);
    refused(await check('g2'), 1, 'BAD_SIGNATURE', ['g2', path]);
    unchanged();
  } finally {
    writeFileSync(path, original);
  }
  ok(await check('g2'), 'g2 again after restoring the file');
});

test('a truncated share file is refused and named', async () => {
  const t = join(w.base, 'g3-truncated.json');
  const bytes = readFileSync(w.shareFile('g3', 'alice'));
  writeFileSync(t, bytes.subarray(0, bytes.length >> 1), { mode: 0o600 });
  const unchanged = watch(w.root);
  refused(await check('g3', ['--share', `g3=${t}`]), 1, 'DAMAGED_FILE', ['g3', t]);
  unchanged();
});

test('another guardian\'s share is refused and named', async () => {
  const other = w.shareFile('g2', 'alice');
  const unchanged = watch(w.root);
  refused(await check('g1', ['--share', `g1=${other}`]), 1, 'WRONG_GUARDIAN', ['g1', 'g2', other]);
  unchanged();
});

test('another guardian\'s identity file (with its own passphrase) is refused and named', async () => {
  const unchanged = watch(w.root);
  const r = await w.kr(['guardian', 'check', '--json', '--guardian', 'g1', '--custodian', 'alice', '--identity', `g1=${w.identityFile('g2')}`, '--passphrase-file', `g1=${w.pass.g2}`]);
  unchanged();
  refused(r, 1, 'IDENTITY_MISMATCH', ['g1', w.identityFile('g2')]);
});

test('a share kept outside the workspace is named by its role, the path is in no entry, and audit verify passes', async () => {
  const set = readJsonFile(w.setFile('alice'));
  const medium = join(w.freshDir('g3-medium'), 'my-share.json');
  copyFileSync(w.shareFile('g3', 'alice'), medium);
  const before = new Set(readdirSync(join(w.root, 'transcripts')));
  ok(await check('g3', ['--share', `g3=${medium}`]), 'check from the outside medium');
  const [added] = readdirSync(join(w.root, 'transcripts')).filter((f) => !before.has(f));
  const text = readFileSync(join(w.root, 'transcripts', added!), 'utf8');
  const statements = text.trim().split('\n').map((l) => JSON.parse(Buffer.from(JSON.parse(l).payload, 'base64').toString('utf8')));
  const drill = statements.find((x) => x.predicate.step === 'drill.result')!;
  assert.deepEqual(drill.subject, [{ name: `keyrite:share/g3/${set.setId}`, digest: { sha256: sha256Hex(readFileSync(medium)) } }]);
  const everything = text + JSON.stringify(statements);
  for (const leak of [medium, w.base, '../', 'my-share']) assert.ok(!everything.includes(leak), `the transcript holds ${leak}`);
  ok(await w.kr(['audit', 'verify', '--json']), 'audit verify after a drill on an outside medium');
});

test('a share rewritten with the same content but other bytes is not the one on record: refused before the passphrase', async () => {
  const t = join(w.base, 'g1-compact.json');
  writeFileSync(t, JSON.stringify(readJsonFile(w.shareFile('g1', 'alice'))), { mode: 0o600 });
  const unchanged = watch(w.root);
  const transcripts = readdirSync(join(w.root, 'transcripts'));
  // No passphrase file: the refusal comes before anyone is asked.
  refused(await w.kr(['guardian', 'check', '--json', '--guardian', 'g1', '--custodian', 'alice', '--share', `g1=${t}`]), 1, 'DAMAGED_FILE', ['g1', t, 'custodian setup recorded']);
  unchanged();
  assert.deepEqual(readdirSync(join(w.root, 'transcripts')), transcripts, 'no ceremony was opened');
});
