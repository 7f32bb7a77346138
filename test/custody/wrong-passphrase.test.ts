import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { isEmptyDir, makeWorkspace, ok, refused, watch, type TestWorkspace } from '../support/workspace.js';

// A wrong passphrase is refused with exit 1 and "wrong passphrase for <the file>", and nothing
// changes on disk. Each case has a control run with the right passphrase.

let w: TestWorkspace; // sealed; alice (guardians g1..g3) is set up by the first test's control run
let wrong: string;
before(async () => {
  w = await makeWorkspace({ k: 2, m: 3, setup: false });
  wrong = w.extraPassphrase('anyone', 'wrong', 'this is not the passphrase');
});

test('custodian setup: wrong passphrase for the custodian', async () => {
  const unchanged = watch(w.root);
  const r = await w.kr(['custodian', 'setup', '--json', '--custodian', 'alice', '--guardians', 'g1,g2,g3', '--threshold', '2', '--passphrase-file', `alice=${wrong}`]);
  unchanged();
  refused(r, 1, 'WRONG_PASSPHRASE', ['wrong passphrase for', 'alice', w.identityFile('alice')]);
  assert.ok(!existsSync(w.setFile('alice')));
  ok(await w.kr(['custodian', 'setup', '--json', '--custodian', 'alice', '--guardians', 'g1,g2,g3', '--threshold', '2', ...w.passArgs('alice')]), 'control');
});

test('guardian check: wrong passphrase for an identity file given with --identity names that file', async () => {
  const copy = join(w.base, 'g1-elsewhere.identity.age');
  copyFileSync(w.identityFile('g1'), copy);
  const unchanged = watch(w.root);
  const r = await w.kr(['guardian', 'check', '--json', '--guardian', 'g1', '--custodian', 'alice', '--identity', `g1=${copy}`, '--passphrase-file', `g1=${wrong}`]);
  unchanged();
  refused(r, 1, 'WRONG_PASSPHRASE', ['wrong passphrase for', 'g1', copy]);
});

test('guardian check: wrong passphrase for the guardian', async () => {
  const unchanged = watch(w.root);
  const r = await w.kr(['guardian', 'check', '--json', '--guardian', 'g2', '--custodian', 'alice', '--passphrase-file', `g2=${wrong}`]);
  unchanged();
  refused(r, 1, 'WRONG_PASSPHRASE', ['wrong passphrase for', 'g2', w.identityFile('g2')]);
  ok(await w.kr(['guardian', 'check', '--json', '--guardian', 'g2', '--custodian', 'alice', ...w.passArgs('g2')]), 'control');
});

test('guardian check: another guardian\'s passphrase is a wrong passphrase too', async () => {
  const unchanged = watch(w.root);
  const r = await w.kr(['guardian', 'check', '--json', '--guardian', 'g1', '--custodian', 'alice', '--passphrase-file', `g1=${w.pass.g3}`]);
  unchanged();
  refused(r, 1, 'WRONG_PASSPHRASE', ['wrong passphrase for', 'g1']);
});

test('recover drill: wrong passphrase for the second guardian', async () => {
  const out = w.freshDir('drill');
  const newPass = w.extraPassphrase('alice', 'new');
  const shares = ['--share', `g1=${w.shareFile('g1', 'alice')}`, '--share', `g3=${w.shareFile('g3', 'alice')}`];
  const quorum = await w.quorumArgs('alice');
  const unchanged = watch(w.root, out);
  const r = await w.kr(['recover', 'custodian', '--json', '--custodian', 'alice', ...shares, ...w.passArgs('g1'), '--passphrase-file', `g3=${wrong}`, '--passphrase-file', `alice=${newPass}`, ...quorum, '--out', out]);
  unchanged();
  assert.ok(isEmptyDir(out));
  refused(r, 1, 'WRONG_PASSPHRASE', ['wrong passphrase for', 'g3', w.identityFile('g3')]);
  const good = ok(await w.kr(['recover', 'custodian', '--json', '--custodian', 'alice', ...shares, ...w.passArgs('g1', 'g3'), '--passphrase-file', `alice=${newPass}`, ...quorum, '--out', out]), 'control');
  assert.deepEqual(good.guardians, ['g1', 'g3']);
});
