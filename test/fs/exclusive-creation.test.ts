import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { keyrite, passphraseFile, tempDir } from '../support/cli.js';
import { FAST, isEmptyDir, makeWorkspace, ok, refused, watch, type TestWorkspace } from '../support/workspace.js';
import { startArgs } from '../support/recovery.js';

// keyrite never overwrites a file it would create (docs/ARCHITECTURE.md §8: O_EXCL), and refuses before
// writing anything. README documents FILE_EXISTS for this and WORKSPACE_EXISTS for init.

// One workspace: first while the roster is open for enrolment, then sealed with alice set up.
let open: TestWorkspace;
let w: TestWorkspace;
before(async () => {
  open = await makeWorkspace({ open: true, k: 2, m: 3 });
});

describe('while the roster is open', () => {
  test('identity new for an enrolled name is refused, nothing overwritten', async () => {
    const out = open.freshDir('again');
    const unchanged = watch(open.root, out);
    const p = open.extraPassphrase('alice', 'second');
    refused(await open.kr(['identity', 'new', '--json', '--name', 'alice', '--role', 'custodian', '--passphrase-file', `alice=${p}`]), 1, 'ALREADY_ENROLLED', ['alice']);
    refused(await open.kr(['identity', 'new', '--json', '--name', 'alice', '--role', 'guardian', '--out', out, '--passphrase-file', `alice=${p}`]), 1, 'ALREADY_ENROLLED', ['alice']);
    refused(await open.kr(['identity', 'new', '--json', '--name', 'generator', '--role', 'generator', '--passphrase-file', `generator=${p}`]), 1, 'ALREADY_ENROLLED', ['generator']);
    unchanged();
    assert.ok(isEmptyDir(out));
  });

  test('identity new refuses when its identity file already exists (name not enrolled), file untouched', async () => {
    const dir = open.holdings('erin');
    mkdirSync(dir, { recursive: true });
    const existing = join(dir, 'erin.identity.age');
    writeFileSync(existing, 'something erin already keeps here\n', { mode: 0o600 });
    const p = open.extraPassphrase('erin', 'new');
    const unchanged = watch(open.root);
    const r = await open.kr(['identity', 'new', '--json', '--name', 'erin', '--role', 'guardian', '--passphrase-file', `erin=${p}`]);
    unchanged();
    assert.equal(readFileSync(existing, 'utf8'), 'something erin already keeps here\n');
    refused(r, 1, 'FILE_EXISTS', [existing]);
  });

  test('identity new refuses when only the public file exists in --out, and writes nothing', async () => {
    const out = open.freshDir('stale-pub');
    writeFileSync(join(out, 'fred.pub.json'), '{"stale":true}\n');
    const p = open.extraPassphrase('fred', 'new');
    const unchanged = watch(open.root, out);
    const r = await open.kr(['identity', 'new', '--json', '--name', 'fred', '--role', 'guardian', '--out', out, '--passphrase-file', `fred=${p}`]);
    assert.equal(r.code, 1, r.stdout);
    unchanged();
    refused(r, 1, 'FILE_EXISTS', [join(out, 'fred.pub.json')]);
  });

  test('init on a non-empty directory is refused, nothing changed', async () => {
    const dir = tempDir('keyrite-nonempty-');
    writeFileSync(join(dir, 'notes.txt'), 'not a workspace\n');
    const p = passphraseFile(tempDir('keyrite-pass-'), 'generator');
    const unchanged = watch(dir);
    const r = await keyrite(['init', '--workspace', dir, FAST, '--yes', '--json', '--passphrase-file', `generator=${p}`]);
    unchanged();
    refused(r, 1, 'WORKSPACE_EXISTS', [dir]);
  });

  test('init on an existing workspace is refused, nothing changed', async () => {
    const unchanged = watch(open.root);
    const r = await open.kr(['init', '--json', ...open.passArgs('generator')]);
    unchanged();
    refused(r, 1, 'WORKSPACE_EXISTS', [open.root]);
  });

});

describe('once sealed, with alice set up', () => {
  before(async () => {
    await open.finish();
    w = open;
  });

  test('custodian setup a second time is refused, nothing changed', async () => {
    const unchanged = watch(w.root);
    const r = await w.kr(['custodian', 'setup', '--json', '--custodian', 'alice', '--guardians', 'g1,g2,g3', '--threshold', '2', ...w.passArgs('alice')]);
    unchanged();
    assert.equal(r.code, 1, r.stdout);
    refused(r, 1, 'FILE_EXISTS', [w.setFile('alice')]);
  });

  async function drillArgs(out: string): Promise<string[]> {
    const newPass = w.extraPassphrase('alice', 'new');
    return [
      'recover', 'custodian', '--json', '--custodian', 'alice', '--share', `g1=${w.shareFile('g1', 'alice')}`, '--share', `g2=${w.shareFile('g2', 'alice')}`,
      ...w.passArgs('g1', 'g2'), '--passphrase-file', `alice=${newPass}`, ...(await w.quorumArgs('alice')), '--out', out,
    ];
  }

  test('recover refuses an --out dir that already holds the custodian\'s identity file, nothing changed', async () => {
    const out = w.freshDir('has-identity');
    copyFileSync(w.identityFile('alice'), join(out, 'alice.identity.age'));
    const unchanged = watch(w.root, out);
    const r = await w.kr(await drillArgs(out));
    unchanged();
    refused(r, 1, 'FILE_EXISTS', [join(out, 'alice.identity.age')]);
  });

  test('recover refuses the default holdings dir while the old identity is there, nothing changed', async () => {
    const args = (await drillArgs('unused')).slice(0, -2); // no --out
    const unchanged = watch(w.root);
    const r = await w.kr(args);
    unchanged();
    refused(r, 1, 'FILE_EXISTS', [w.identityFile('alice')]);
  });

  test('recover refuses an --out dir holding a stale public file, and writes nothing', async () => {
    const out = w.freshDir('has-pub');
    copyFileSync(w.pubFile('alice'), join(out, 'alice.pub.json'));
    const unchanged = watch(w.root, out);
    const r = await w.kr(await drillArgs(out));
    assert.equal(r.code, 1, r.stdout);
    unchanged();
    refused(r, 1, 'FILE_EXISTS', [join(out, 'alice.pub.json')]);
  });

  test('guardian release twice for one session is refused, the first release untouched', async () => {
    const start = ok(await w.kr(await startArgs(w, 'alice', w.extraPassphrase('alice', 'rel'))));
    const args = ['guardian', 'release', '--json', '--guardian', 'g3', '--custodian', 'alice', '--session', start.session, '--to', start.recipient, ...w.passArgs('g3')];
    const first = ok(await w.kr(args));
    const unchanged = watch(w.root);
    const r = await w.kr(args);
    unchanged();
    refused(r, 1, 'FILE_EXISTS', [first.path]);
  });
});
