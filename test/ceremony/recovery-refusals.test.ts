import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { unlockIdentity } from '../../src/custody/identity.js';
import { releaseShare } from '../../src/custody/release.js';
import type { Run } from '../support/cli.js';
import { finish, release, startRecovery, type Started } from '../support/recovery.js';
import { flipCiphertextByte, isEmptyDir, makeWorkspace, ok, readJsonFile, refused, watch, type TestWorkspace } from '../support/workspace.js';

// Every bad way into a custodian recovery is refused with exit 1, a message naming the bad
// share or guardian, and nothing written — neither in the workspace nor in the --out dir.
// Drill path (guardians' own share files) and release path (released shares) alike. Releases
// no honest `guardian release` would make (another custodian's, another workspace's, a
// replaced set's) are built with the project's own signing code, as a modified tool would.

let w: TestWorkspace; // alice: g1,g2,g3 (2-of-3); bob: h1,h2,h3
let w2: TestWorkspace; // another workspace with the same names; alice's set later re-split
// The drill path runs on copies of both, side by side with the release path (the workspace
// lock allows one command at a time per workspace).
let wd: TestWorkspace;
let w2d: TestWorkspace;
let newPass: string;
let w2NewPass: string;
let oldSetShare: string; // w2: g1's share of alice's first (replaced) set
const tampered = (label: string) => join(w.base, `tampered-${label}.json`);

function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  return path;
}

function tamperCiphertext(src: string, dst: string): string {
  const x = readJsonFile(src);
  x.share = flipCiphertextByte(x.share);
  return writeJson(dst, x);
}

before(async () => {
  [w, w2] = await Promise.all([
    makeWorkspace({ guardians: { alice: ['g1', 'g2', 'g3'], bob: ['h1', 'h2', 'h3'] }, k: 2, m: 3 }),
    makeWorkspace({ k: 2, m: 3 }),
  ]);
  newPass = w.extraPassphrase('alice', 'new');
  w2NewPass = w2.extraPassphrase('alice', 'new');
  // w2: keep g1's share of the first set, move the set aside, split alice's key again.
  oldSetShare = join(w2.base, 'old-g1.share-of-alice.json');
  copyFileSync(w2.shareFile('g1', 'alice'), oldSetShare);
  const aside = join(w2.base, 'aside');
  mkdirSync(aside);
  renameSync(join(w2.root, 'guardians', 'alice'), join(aside, 'guardians-alice'));
  for (const g of ['g1', 'g2', 'g3']) renameSync(w2.shareFile(g, 'alice'), join(aside, `${g}.share-of-alice.json`));
  ok(await w2.kr(['custodian', 'setup', '--custodian', 'alice', '--guardians', 'g1,g2,g3', '--threshold', '2', '--json', ...w2.passArgs('alice')]), 're-split');
  assert.notEqual(readJsonFile(oldSetShare).setId, readJsonFile(w2.shareFile('g1', 'alice')).setId);
  wd = w.clone();
  w2d = w2.clone();
});

describe('recovery refusals', { concurrency: 2 }, () => {

  describe('drill path (guardians\' own share files)', { concurrency: 1 }, () => {
    const allGuardians = () => wd.passArgs('g1', 'g2', 'g3', 'h1', 'h2', 'h3');

    /** Runs a drill for alice with these shares and checks nothing was written. */
    async function drill(tw: TestWorkspace, shares: [string, string][], pass = newPass, guardianPass = allGuardians()): Promise<Run> {
      const out = tw.freshDir('refused-drill');
      const unchanged = watch(tw.root, out);
      const r = await tw.kr([
        'recover', 'custodian', '--custodian', 'alice', '--json',
        ...shares.flatMap(([g, p]) => ['--share', `${g}=${p}`]),
        ...guardianPass, '--passphrase-file', `alice=${pass}`, ...(await tw.quorumArgs('alice')), '--out', out,
      ]);
      unchanged();
      assert.ok(isEmptyDir(out), '--out must stay empty');
      return r;
    }

    test('fewer than k shares', async () => {
      refused(await drill(wd, [['g1', wd.shareFile('g1', 'alice')]]), 1, 'TOO_FEW_SHARES', ['alice', 'needs 2']);
    });

    test('a share whose ciphertext has one flipped byte', async () => {
      const t = tamperCiphertext(wd.shareFile('g2', 'alice'), tampered('drill-ct'));
      refused(await drill(wd, [['g1', wd.shareFile('g1', 'alice')], ['g2', t]]), 1, 'BAD_SIGNATURE', ['g2', t]);
    });

    test('a share whose index was changed', async () => {
      const x = readJsonFile(wd.shareFile('g2', 'alice'));
      x.index = 3;
      const t = writeJson(tampered('drill-index'), x);
      refused(await drill(wd, [['g1', wd.shareFile('g1', 'alice')], ['g2', t]]), 1, 'BAD_SIGNATURE', ['g2', t]);
    });

    test('a share of another set of the same custodian (replaced by a re-split)', async () => {
      refused(await drill(w2d, [['g1', oldSetShare], ['g2', w2d.shareFile('g2', 'alice')]], w2NewPass, w2d.passArgs('g1', 'g2', 'g3')), 1, 'WRONG_SET', ['g1', oldSetShare]);
    });

    test('a share from another workspace (same names, other keys)', async () => {
      const foreign = w2.shareFile('g2', 'alice'); // w2's current set (read only)
      refused(await drill(wd, [['g1', wd.shareFile('g1', 'alice')], ['g2', foreign]]), 1, 'BAD_SIGNATURE', ['g2', foreign]);
    });

    test('a share of another custodian, under its own guardian', async () => {
      const hs = wd.shareFile('h1', 'bob');
      refused(await drill(wd, [['g1', wd.shareFile('g1', 'alice')], ['h1', hs]]), 1, 'WRONG_CUSTODIAN', ['h1', hs, 'bob']);
    });

    test('a share of another custodian, named under one of alice\'s guardians', async () => {
      const hs = wd.shareFile('h1', 'bob');
      refused(await drill(wd, [['g1', wd.shareFile('g1', 'alice')], ['g2', hs]]), 1, 'WRONG_CUSTODIAN', ['g2', hs, 'bob']);
    });

    test('the same share file under two guardians\' names', async () => {
      const f = wd.shareFile('g1', 'alice');
      refused(await drill(wd, [['g1', f], ['g2', f]]), 1, 'WRONG_GUARDIAN', ['g2', f]);
    });

    test('a copy of one guardian\'s share given as another\'s', async () => {
      const copy = join(wd.base, 'copy-of-g3-share.json');
      copyFileSync(wd.shareFile('g3', 'alice'), copy);
      refused(await drill(wd, [['g1', wd.shareFile('g1', 'alice')], ['g2', copy]]), 1, 'WRONG_GUARDIAN', ['g2', copy]);
    });

    test('the same guardian name twice is a usage error naming it', async () => {
      // Two --share options for one NAME: the command line itself is malformed (exit 2).
      refused(await drill(wd, [['g1', wd.shareFile('g1', 'alice')], ['g1', wd.shareFile('g2', 'alice')]]), 2, 'USAGE', ['g1']);
    });

    test('control: the same workspace recovers with two good shares', async () => {
      const out = wd.freshDir('drill-ok');
      const r = ok(
        await wd.kr([
          'recover', 'custodian', '--custodian', 'alice', '--json', '--share', `g1=${wd.shareFile('g1', 'alice')}`, '--share', `g3=${wd.shareFile('g3', 'alice')}`,
          ...wd.passArgs('g1', 'g3'), '--passphrase-file', `alice=${newPass}`, ...(await wd.quorumArgs('alice')), '--out', out,
        ]),
      );
      assert.deepEqual(r.guardians, ['g1', 'g3']);
    });
  });

  describe('release path (released shares)', { concurrency: 1 }, () => {
    let S1: Started;
    let S2: Started;
    const rel: Record<string, string> = {}; // guardian → released share for S1
    let otherSession: string; // g1's release for S2
    let bobRelease: string; // h1's release of bob's share, signed for S1 with a modified tool

    /** `guardian`'s release of `share` for `s`, made with the project's own code, as a modified tool would. */
    async function crafted(tw: TestWorkspace, guardian: string, share: string, s: Started, label: string): Promise<string> {
      const id = await unlockIdentity(readFileSync(tw.identityFile(guardian)), tw.passphrases[guardian]!, guardian);
      return writeJson(join(tw.base, `crafted-${label}.json`), await releaseShare(readJsonFile(share), id, s.session, s.recipient, share));
    }

    before(async () => {
      S1 = await startRecovery(w, 'alice', newPass);
      S2 = await startRecovery(w, 'alice', newPass);
      for (const g of ['g1', 'g2', 'g3']) rel[g] = await release(w, g, 'alice', S1);
      otherSession = await release(w, 'g1', 'alice', S2, ['--out', w.freshDir('s2')]);
      bobRelease = await crafted(w, 'h1', w.shareFile('h1', 'bob'), S1, 'bob');
    });

    async function complete(tw: TestWorkspace, s: Started, released: [string, string][], pass = newPass): Promise<Run> {
      const out = tw.freshDir('refused-release');
      const unchanged = watch(tw.root, out);
      const r = await finish(tw, 'alice', s.session, released, pass, out);
      unchanged();
      assert.ok(isEmptyDir(out), '--out must stay empty');
      return r;
    }

    test('fewer than k released shares', async () => {
      refused(await complete(w, S1, [['g1', rel.g1!]]), 1, 'TOO_FEW_SHARES', ['alice', 'needs 2']);
    });

    test('a released share whose ciphertext has one flipped byte', async () => {
      const t = tamperCiphertext(rel.g2!, tampered('rel-ct'));
      refused(await complete(w, S1, [['g1', rel.g1!], ['g2', t]]), 1, 'BAD_SIGNATURE', ['g2', t]);
    });

    test('a released share whose envelope index was changed', async () => {
      const x = readJsonFile(rel.g2!);
      x.envelope.index = 3;
      const t = writeJson(tampered('rel-index'), x);
      refused(await complete(w, S1, [['g1', rel.g1!], ['g2', t]]), 1, 'BAD_SIGNATURE', ['g2', t]);
    });

    test('a released share for another recovery session', async () => {
      refused(await complete(w, S1, [['g1', otherSession], ['g2', rel.g2!]]), 1, 'WRONG_SESSION', ['g1', otherSession, S1.session]);
    });

    test('a released share of another custodian, under its own guardian', async () => {
      refused(await complete(w, S1, [['g1', rel.g1!], ['h1', bobRelease]]), 1, 'WRONG_CUSTODIAN', ['h1', bobRelease, 'bob']);
    });

    test('a released share of another custodian, named under one of alice\'s guardians', async () => {
      refused(await complete(w, S1, [['g1', rel.g1!], ['g2', bobRelease]]), 1, 'WRONG_GUARDIAN', ['g2', bobRelease]);
    });

    test('the same released share under two guardians\' names', async () => {
      refused(await complete(w, S1, [['g1', rel.g1!], ['g2', rel.g1!]]), 1, 'WRONG_GUARDIAN', ['g2', rel.g1!]);
    });

    test('the same guardian name twice is a usage error naming it', async () => {
      refused(await complete(w, S1, [['g1', rel.g1!], ['g1', rel.g2!]]), 2, 'USAGE', ['g1']);
    });

    test('a released share from another workspace (same names, other keys)', async () => {
      // w2's g1 releases w2's share to w's session: signed by a g1 that w does not know.
      const foreign = await crafted(w2, 'g1', w2.shareFile('g1', 'alice'), S1, 'foreign');
      refused(await complete(w, S1, [['g1', foreign], ['g2', rel.g2!]]), 1, 'BAD_SIGNATURE', ['g1', foreign]);
    });

    test('a released share of another set, genuinely signed by its guardian', async () => {
      // g1 releases the share of alice's replaced set with a modified tool: the release is
      // genuinely signed by g1, for the right session, but of the wrong set.
      const start = await startRecovery(w2, 'alice', w2NewPass);
      const old = await crafted(w2, 'g1', oldSetShare, start, 'old-set');
      const g2 = await release(w2, 'g2', 'alice', start);
      refused(await complete(w2, start, [['g1', old], ['g2', g2]], w2NewPass), 1, 'WRONG_SET', ['g1', old]);
    });

    test('guardian release refuses a share of a replaced set, and writes nothing', async () => {
      const start = await startRecovery(w2, 'alice', w2NewPass);
      const out = w2.freshDir('release-old');
      const unchanged = watch(w2.root, out);
      const r = await w2.kr([
        'guardian', 'release', '--json', '--guardian', 'g1', '--custodian', 'alice', '--share', `g1=${oldSetShare}`,
        '--session', start.session, '--to', start.recipient, '--out', out, ...w2.passArgs('g1'),
      ]);
      unchanged();
      assert.ok(isEmptyDir(out));
      refused(r, 1, 'WRONG_SET', ['g1', oldSetShare]);
    });

    test('the wrong passphrase for the session\'s one-off identity', async () => {
      refused(await complete(w, S1, [['g1', rel.g1!], ['g2', rel.g2!]], w.pass.alice!), 1, 'WRONG_PASSPHRASE', ['one-off', S1.session]);
    });

    test('control: the same session completes with two good released shares', async () => {
      const out = w.freshDir('release-ok');
      const r = ok(
        await w.kr([
          'recover', 'custodian', '--custodian', 'alice', '--json', '--session', S1.session, '--released', `g2=${rel.g2}`, '--released', `g3=${rel.g3}`,
          '--passphrase-file', `alice=${newPass}`, ...(await w.quorumArgs('alice')), '--out', out,
        ]),
      );
      assert.deepEqual(r.guardians, ['g2', 'g3']);
    });
  });
});
