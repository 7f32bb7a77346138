import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { before, test } from 'node:test';
import { decryptWithPassphrase } from '../../src/base/age.js';
import { ageKeyBytes, openShare } from '../../src/custody/guardian-share.js';
import { parseSecret, unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { allFiles } from '../support/cli.js';
import { makeWorkspace, ok, refused, type TestWorkspace } from '../support/workspace.js';
import { startArgs } from '../support/recovery.js';

// docs/ARCHITECTURE.md §2 and §8: secret files are 0600; secret material never reaches stdout, stderr, a
// transcript or any other unencrypted file. The whole foundation lifecycle runs, including
// refusals; then every secret (in several encodings) is looked for everywhere it must not be.

let w: TestWorkspace;
let newPass: string;
let oneOff: Identity;
const outs: string[] = [];

before(async () => {
  w = await makeWorkspace({ k: 2, m: 3 });
  newPass = w.extraPassphrase('alice', 'new');
  for (const g of ['g1', 'g2', 'g3']) {
    // human output for g1, --json for the others
    const r = await w.kr(['guardian', 'check', '--guardian', g, '--custodian', 'alice', ...w.passArgs(g), ...(g === 'g1' ? [] : ['--json'])]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  }
  const start = ok(await w.kr(await startArgs(w, 'alice', newPass)));
  // The session's one-off key, read before the completion removes it: it must not leak either.
  const oneOffPath = `${w.root}/recovery/${start.session}/one-off.identity.age`;
  oneOff = await parseSecret(await decryptWithPassphrase(readFileSync(oneOffPath), readFileSync(newPass, 'utf8').trim(), 'one-off'), 'one-off');
  assert.equal(oneOff.recipient, start.recipient);
  assert.equal(statSync(oneOffPath).mode & 0o777, 0o600);
  const released: string[] = [];
  for (const g of ['g1', 'g2']) {
    const r = ok(await w.kr(['guardian', 'release', '--json', '--guardian', g, '--custodian', 'alice', '--session', start.session, '--to', start.recipient, ...w.passArgs(g)]));
    released.push('--released', `${g}=${r.path}`);
  }
  const quorum = await w.quorumArgs('alice');
  outs.push(w.freshDir('released'), w.freshDir('drill'));
  // human output (no --json) too
  const done = await w.kr(['recover', 'custodian', '--custodian', 'alice', '--session', start.session, ...released, '--out', outs[0]!, '--passphrase-file', `alice=${newPass}`, ...quorum]);
  assert.equal(done.code, 0, done.stderr);
  ok(await w.kr(['recover', 'custodian', '--json', '--custodian', 'alice', '--share', `g2=${w.shareFile('g2', 'alice')}`, '--share', `g3=${w.shareFile('g3', 'alice')}`, ...w.passArgs('g2', 'g3'), '--passphrase-file', `alice=${newPass}`, ...quorum, '--out', outs[1]!]));
  // refusals print too
  refused(await w.kr(['guardian', 'check', '--json', '--guardian', 'g1', '--custodian', 'alice', '--passphrase-file', `g1=${w.pass.g2}`]), 1, 'WRONG_PASSPHRASE', ['g1']);
  const bad = await w.kr(['recover', 'custodian', '--custodian', 'alice', '--share', `g1=${w.shareFile('g1', 'alice')}`, '--share', `g2=${w.shareFile('g1', 'alice')}`, ...w.passArgs('g1', 'g2'), '--passphrase-file', `alice=${newPass}`, ...quorum, '--out', w.freshDir('bad')]);
  assert.equal(bad.code, 1);
});

const isAgeFile = (bytes: Buffer) => bytes.subarray(0, 21).toString('latin1') === 'age-encryption.org/v1';
const isNodeIdentity = (path: string, root: string) => /^nodes\/[^/]+\/identity\.json$/.test(relative(root, path));
const everything = () => [w.root, ...outs].flatMap((d) => allFiles(d));

test('secret files are 0600', () => {
  const files = everything();
  const secretFiles = files.filter(
    (f) => f.path.endsWith('.identity.age') || isNodeIdentity(f.path, w.root) || /\.share-of-[a-z0-9-]+\.json$/.test(f.path) || /\.release-[0-9a-f]{16}\.json$/.test(f.path),
  );
  const kinds = (re: RegExp) => secretFiles.filter((f) => re.test(f.path)).length;
  assert.ok(kinds(/\.identity\.age$/) >= 8, 'people\'s identity files, including both recovered ones');
  assert.equal(kinds(/nodes\/[^/]+\/identity\.json$/), 3);
  assert.equal(kinds(/\.share-of-alice\.json$/), 3);
  assert.equal(kinds(/\.release-/), 2);
  const loose = secretFiles.filter((f) => f.mode !== 0o600).map((f) => `${f.path} ${f.mode.toString(8)}`);
  assert.deepEqual(loose, [], 'secret files must be 0600');
});

test('no secret appears in any command\'s output or any unencrypted file', async () => {
  // Collect the secrets.
  const secrets = new Map<string, string>(); // encoded secret → what it is
  const add = (what: string, s: string) => secrets.set(s, what);
  const addBytes = (what: string, b: Uint8Array) => {
    const buf = Buffer.from(b);
    add(`${what} (hex)`, buf.toString('hex'));
    add(`${what} (HEX)`, buf.toString('hex').toUpperCase());
    add(`${what} (base64)`, buf.toString('base64'));
    add(`${what} (base64, unpadded)`, buf.toString('base64').replace(/=+$/, ''));
  };
  const addIdentity = (id: Identity, what: string) => {
    add(`${what} age key`, id.ageIdentity);
    add(`${what} age key (lower case)`, id.ageIdentity.toLowerCase());
    addBytes(`${what} age key bytes`, ageKeyBytes(id.ageIdentity));
    addBytes(`${what} Ed25519 seed`, id.signing.seed);
  };
  for (const [name, p] of Object.entries(w.passphrases)) add(`${name}'s passphrase`, p);
  add('alice\'s new passphrase', readFileSync(newPass, 'utf8').trim());
  const files = everything();
  const ids = new Map<string, Identity>();
  for (const f of files.filter((f) => f.path.endsWith('.identity.age'))) {
    const name = basename(f.path, '.identity.age');
    const recovered = outs.some((o) => f.path.startsWith(o + '/'));
    const id = await unlockIdentity(f.bytes, recovered ? readFileSync(newPass, 'utf8').trim() : w.passphrases[name]!, f.path);
    ids.set(f.path, id);
    addIdentity(id, `${name} (${relative(w.base, f.path)})`);
  }
  addIdentity(oneOff, 'the recovery one-off identity');
  for (const f of files.filter((f) => isNodeIdentity(f.path, w.root))) addIdentity(await parseSecret(f.bytes, f.path), relative(w.root, f.path));
  for (const g of ['g1', 'g2', 'g3']) {
    const env = JSON.parse(readFileSync(w.shareFile(g, 'alice'), 'utf8'));
    const gid = ids.get(w.identityFile(g))!;
    addBytes(`${g}'s Shamir share`, await openShare(env, gid, g));
  }
  assert.ok(secrets.size > 100, `collected ${secrets.size} encoded secrets`);

  // Where they must not be: every command's stdout and stderr, every file that is not an age
  // file (node identity files hold their own node's secret by design, 0600, checked above).
  const places: { where: string; text: string }[] = [];
  for (const { args, run } of w.runs) {
    places.push({ where: `stdout of keyrite ${args.slice(3).join(' ')}`, text: run.stdout });
    places.push({ where: `stderr of keyrite ${args.slice(3).join(' ')}`, text: run.stderr });
  }
  const plainFiles = files.filter((f) => !isAgeFile(f.bytes) && !isNodeIdentity(f.path, w.root));
  for (const f of plainFiles) places.push({ where: f.path, text: f.bytes.toString('latin1') });
  assert.ok(w.runs.length >= 15, `${w.runs.length} commands ran`);

  const leaks: string[] = [];
  for (const { where, text } of places) for (const [s, what] of secrets) if (s.length >= 16 && text.includes(s)) leaks.push(`${what} in ${where}`);
  assert.deepEqual(leaks, [], `secrets leaked:\n${leaks.join('\n')}`);
});
