import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { decryptWith } from '../../src/base/age.js';
import { openShare } from '../../src/custody/guardian-share.js';
import { unlockIdentity } from '../../src/custody/identity.js';
import { makeWorkspace, ok, readJsonFile, refused, type TestWorkspace } from '../support/workspace.js';

// Interop with the real age CLI (Debian age 1.1.1), both ways. age reads passphrases only from
// the terminal, so it runs under `script`, which gives it a pty fed from our stdin.

const AGE = ['/usr/bin/age', '/usr/local/bin/age'].find(existsSync) ?? (spawnSync('sh', ['-c', 'command -v age']).stdout?.toString().trim() || '');
const haveAge = AGE !== '' && spawnSync(AGE, ['--version']).status === 0;
const haveScript = spawnSync('script', ['--version']).status === 0;

let w: TestWorkspace;
before(async () => {
  if (haveAge) w = await makeWorkspace({ k: 2, m: 3 });
});

function skipUnlessAge(t: { skip: (m: string) => void }): boolean {
  if (!haveAge) {
    t.skip('age not installed');
    return true;
  }
  assert.ok(haveScript, '`script` (util-linux) is needed to give age a terminal');
  return false;
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs an age command under a pty, typing `lines` at its passphrase prompts. */
function ageTty(cmd: string, lines: string[]): { status: number | null; output: string } {
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { input: lines.map((l) => l + '\n').join(''), timeout: 60_000 });
  return { status: r.status, output: r.stdout.toString() + r.stderr.toString() };
}

test('age -d opens a keyrite identity file; its key derives the recorded recipient and signing key', async (t) => {
  if (skipUnlessAge(t)) return;
  const file = w.identityFile('g1');
  assert.match(readFileSync(file, 'latin1').split('\n')[1]!, /^-> scrypt [A-Za-z0-9+/]{22} 10$/);
  const out = join(w.base, 'g1.plain');
  const r = ageTty(`${AGE} -d -o ${sh(out)} ${sh(file)}`, [w.passphrases.g1!]);
  assert.equal(r.status, 0, r.output);
  const plain = JSON.parse(readFileSync(out, 'utf8'));
  rmSync(out);
  assert.equal(plain.name, 'g1');
  assert.equal(plain.role, 'guardian');
  assert.match(plain.age, /^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);

  const keyFile = join(w.base, 'g1.agekey');
  writeFileSync(keyFile, plain.age + '\n', { mode: 0o600 });
  try {
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const recipient = execFileSync('age-keygen', ['-y', keyFile]).toString().trim();
    const pub = readJsonFile(w.pubFile('g1'));
    assert.equal(recipient, pub.recipient, 'age-keygen -y derives the recipient in g1.pub.json');
    assert.equal(recipient, readJsonFile(join(w.root, 'identities', 'g1.pub.json')).recipient);
    assert.equal(Buffer.from(ed25519.getPublicKey(Buffer.from(plain.ed25519, 'hex'))).toString('hex'), pub.signingKey);
  } finally {
    rmSync(keyFile, { force: true });
  }
});

test('age -d refuses a keyrite identity file with the wrong passphrase', async (t) => {
  if (skipUnlessAge(t)) return;
  const out = join(w.base, 'g2.plain');
  const r = ageTty(`${AGE} -d -o ${sh(out)} ${sh(w.identityFile('g2'))}`, ['not the passphrase at all']);
  assert.notEqual(r.status, 0, r.output);
  assert.ok(!existsSync(out) || readFileSync(out).length === 0);
});

test('a file age -r encrypts to a keyrite recipient opens with the keyrite identity', async (t) => {
  if (skipUnlessAge(t)) return;
  const pub = readJsonFile(w.pubFile('g2'));
  const g2 = await unlockIdentity(readFileSync(w.identityFile('g2')), w.passphrases.g2!, 'g2', pub);
  const secret = Buffer.from('33 bytes of a share, say, or a shard \x00\x01\xfe', 'latin1');
  for (const armor of [false, true]) {
    const ct = execFileSync(AGE, ['-r', pub.recipient, ...(armor ? ['-a'] : [])], { input: secret });
    assert.deepEqual(Buffer.from(await decryptWith(g2.ageIdentity, ct, 'age CLI output')), secret);
    // and not with someone else's identity
    const g3 = await unlockIdentity(readFileSync(w.identityFile('g3')), w.passphrases.g3!, 'g3');
    await assert.rejects(decryptWith(g3.ageIdentity, ct, 'age CLI output'), (e: any) => e.code === 'NOT_FOR_THIS_IDENTITY');
  }
});

test('a guardian share written by keyrite opens with age -d -i and the guardian\'s key', async (t) => {
  if (skipUnlessAge(t)) return;
  const env = readJsonFile(w.shareFile('g3', 'alice'));
  const g3 = await unlockIdentity(readFileSync(w.identityFile('g3')), w.passphrases.g3!, 'g3');
  const keyFile = join(w.base, 'g3.agekey');
  writeFileSync(keyFile, g3.ageIdentity + '\n', { mode: 0o600 });
  try {
    const viaAge = execFileSync(AGE, ['-d', '-i', keyFile], { input: env.share });
    const viaKeyrite = await openShare(env, g3, 'g3 share');
    assert.deepEqual(Buffer.from(viaAge), Buffer.from(viaKeyrite));
    assert.equal(viaAge.length, 33, 'a share of a 32-byte key is 33 bytes');
  } finally {
    rmSync(keyFile, { force: true });
  }
});

test('an identity file re-encrypted with age -p (work factor 18) unlocks in keyrite guardian check', async (t) => {
  if (skipUnlessAge(t)) return;
  const plain = join(w.base, 'g1.id.plain');
  const reenc = join(w.base, 'g1.by-age.identity.age');
  let r = ageTty(`${AGE} -d -o ${sh(plain)} ${sh(w.identityFile('g1'))}`, [w.passphrases.g1!]);
  assert.equal(r.status, 0, r.output);
  const newPass = 'a passphrase chosen in age itself';
  r = ageTty(`${AGE} -p -o ${sh(reenc)} ${sh(plain)}`, [newPass, newPass]);
  rmSync(plain);
  assert.equal(r.status, 0, r.output);
  assert.match(readFileSync(reenc, 'latin1').split('\n')[1]!, /^-> scrypt \S{22} 18$/);
  const p = w.extraPassphrase('g1', 'age');
  writeFileSync(p, newPass + '\n');
  const check = ok(await w.kr(['guardian', 'check', '--json', '--guardian', 'g1', '--custodian', 'alice', '--identity', `g1=${reenc}`, '--passphrase-file', `g1=${p}`]));
  assert.equal(check.index, 1);
  refused(await w.kr(['guardian', 'check', '--json', '--guardian', 'g1', '--custodian', 'alice', '--identity', `g1=${reenc}`, ...w.passArgs('g1')]), 1, 'WRONG_PASSPHRASE', [reenc]);
});
