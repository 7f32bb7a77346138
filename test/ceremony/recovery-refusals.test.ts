import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { unlockIdentity } from '../../src/custody/identity.js';
import { releaseShare } from '../../src/custody/release.js';
import type { Run } from '../support/cli.js';
import { flipCiphertextByte, isEmptyDir, makeWorkspace, ok, readJsonFile, refused, watch, type TestWorkspace } from '../support/workspace.js';

// Every bad way into a custodian recovery is refused with exit 1, a message naming the bad
// share or guardian, and nothing written — neither in the workspace nor in the --out dir.
// Drill path (guardians' own share files) and release path (released shares) alike.

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
    let S1: string;
    let R1: string;
    let S2: string;
    const rel: Record<string, string> = {}; // guardian → released share for S1
    let otherSession: string; // g1's release for S2
    let bobRelease: string; // h1 released bob's share to S1

    async function release(tw: TestWorkspace, g: string, custodian: string, session: string, to: string, out?: string): Promise<string> {
      const r = ok(
        await tw.kr(['guardian', 'release', '--json', '--guardian', g, '--custodian', custodian, '--session', session, '--to', to, ...tw.passArgs(g), ...(out ? ['--out', out] : [])]),
        `release by ${g}`,
      );
      return r.path;
    }

    before(async () => {
      const s1 = ok(await w.kr(['recover', 'custodian', '--custodian', 'alice', '--json', '--passphrase-file', `alice=${newPass}`]));
      const s2 = ok(await w.kr(['recover', 'custodian', '--custodian', 'alice', '--json', '--passphrase-file', `alice=${newPass}`]));
      [S1, R1, S2] = [s1.session, s1.recipient, s2.session];
      for (const g of ['g1', 'g2', 'g3']) rel[g] = await release(w, g, 'alice', S1, R1);
      otherSession = await release(w, 'g1', 'alice', S2, s2.recipient, w.freshDir('s2'));
      bobRelease = await release(w, 'h1', 'bob', S1, R1);
    });

    async function complete(tw: TestWorkspace, session: string, released: [string, string][], pass = newPass): Promise<Run> {
      const out = tw.freshDir('refused-release');
      const unchanged = watch(tw.root, out);
      const r = await tw.kr([
        'recover', 'custodian', '--custodian', 'alice', '--json', '--session', session,
        ...released.flatMap(([g, p]) => ['--released', `${g}=${p}`]),
        '--passphrase-file', `alice=${pass}`, ...(await tw.quorumArgs('alice')), '--out', out,
      ]);
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
      refused(await complete(w, S1, [['g1', otherSession], ['g2', rel.g2!]]), 1, 'WRONG_SESSION', ['g1', otherSession, S1]);
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
      const foreign = await release(w2, 'g1', 'alice', S1, R1, w2.freshDir('foreign'));
      refused(await complete(w, S1, [['g1', foreign], ['g2', rel.g2!]]), 1, 'BAD_SIGNATURE', ['g1', foreign]);
    });

    test('a released share of another set, genuinely signed by its guardian', async () => {
      // g1 releases the share of alice's replaced set with a modified tool: the release is
      // genuinely signed by g1, for the right session, but of the wrong set.
      const start = ok(await w2.kr(['recover', 'custodian', '--custodian', 'alice', '--json', '--passphrase-file', `alice=${w2NewPass}`]));
      const g1 = await unlockIdentity(readFileSync(w2.identityFile('g1')), w2.passphrases.g1!, 'g1');
      const crafted = writeJson(join(w2.base, 'old-set-release.json'), await releaseShare(readJsonFile(oldSetShare), g1, start.session, start.recipient, 'old share'));
      const g2 = await release(w2, 'g2', 'alice', start.session, start.recipient);
      refused(await complete(w2, start.session, [['g1', crafted], ['g2', g2]], w2NewPass), 1, 'WRONG_SET', ['g1', crafted]);
    });

    test('guardian release refuses a share of a replaced set, and writes nothing', async () => {
      const start = ok(await w2.kr(['recover', 'custodian', '--custodian', 'alice', '--json', '--passphrase-file', `alice=${w2NewPass}`]));
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
      refused(await complete(w, S1, [['g1', rel.g1!], ['g2', rel.g2!]], w.pass.alice!), 1, 'WRONG_PASSPHRASE', ['one-off', S1]);
    });

    test('control: the same session completes with two good released shares', async () => {
      const out = w.freshDir('release-ok');
      const r = ok(
        await w.kr([
          'recover', 'custodian', '--custodian', 'alice', '--json', '--session', S1, '--released', `g2=${rel.g2}`, '--released', `g3=${rel.g3}`,
          '--passphrase-file', `alice=${newPass}`, ...(await w.quorumArgs('alice')), '--out', out,
        ]),
      );
      assert.deepEqual(r.guardians, ['g2', 'g3']);
    });
  });
});
