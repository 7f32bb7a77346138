import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { unlockIdentity } from '../../src/custody/identity.js';
import { startRecovery } from '../support/recovery.js';
import { makeWorkspace, ok, readJsonFile, subsets, type TestWorkspace } from '../support/workspace.js';

// Custodian recovery from every k-subset of the m guardians, for (k, m) = (2, 3) and (3, 5),
// both through released shares (start, approved and witnessed → release × k → finish) and through the drill path.
// One workspace per (k, m, path); a fresh --out directory per recovery.

interface Original {
  recipient: string;
  ageIdentity: string;
  signingKey: string;
}

async function original(w: TestWorkspace): Promise<Original> {
  const id = await unlockIdentity(readFileSync(w.identityFile('alice')), w.passphrases.alice!, 'alice');
  assert.equal(readJsonFile(w.pubFile('alice')).recipient, id.recipient);
  return { recipient: id.recipient, ageIdentity: id.ageIdentity, signingKey: id.signing.publicKey };
}

/** The new identity: same age key (so the shards open), new Ed25519 key, 0600, enrolled. */
async function checkRecovered(w: TestWorkspace, res: any, out: string, orig: Original, seen: Set<string>, subset: string[], newPass: string) {
  const file = join(out, 'alice.identity.age');
  assert.equal(res.file, file);
  assert.deepEqual(res.guardians, subset);
  assert.equal(res.identity.recipient, orig.recipient, 'the recovered identity must keep the age recipient');
  assert.notEqual(res.identity.signingKey, orig.signingKey, 'the recovered identity must have a new Ed25519 key');
  assert.ok(!seen.has(res.identity.signingKey), 'each recovery issues a fresh Ed25519 key');
  seen.add(res.identity.signingKey);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const id = await unlockIdentity(readFileSync(file), readFileSync(newPass, 'utf8').trim(), file);
  assert.equal(id.ageIdentity, orig.ageIdentity, 'the rebuilt age secret key is the original one');
  assert.equal(id.signing.publicKey, res.identity.signingKey);
  assert.deepEqual(readJsonFile(join(out, 'alice.pub.json')), res.identity);
  // The workspace now knows alice by her new signing key.
  assert.equal(readJsonFile(join(w.root, 'identities', 'alice.pub.json')).signingKey, res.identity.signingKey);
  const roster = readJsonFile(join(w.root, 'roster.json'));
  assert.equal(roster.members.find((m: any) => m.name === 'alice').signingKey, res.identity.signingKey);
}

async function viaRelease(w: TestWorkspace, k: number) {
  const orig = await original(w);
  const newPass = w.extraPassphrase('alice', 'new');
  const seen = new Set<string>([orig.signingKey]);
  const all = w.guardiansOf.alice!;
  const combos = subsets(all, k);
  assert.equal(combos.length, k === 2 ? 3 : 10);
  for (const subset of combos) {
    const start = await startRecovery(w, 'alice', newPass);
    assert.match(start.session, /^[0-9a-f]{16}$/);
    assert.match(start.recipient, /^age1[0-9a-z]{58}$/);
    assert.notEqual(start.recipient, orig.recipient);
    // Releases happen on the guardians' own devices; here one after the other (workspace lock).
    const paths: string[] = [];
    for (const g of subset) {
      const r = ok(
        await w.kr(['guardian', 'release', '--guardian', g, '--custodian', 'alice', '--session', start.session, '--to', start.recipient, '--json', ...w.passArgs(g)]),
        `release by ${g}`,
      );
      assert.equal(r.path, join(w.holdings(g), `${g}.release-${start.session}.json`));
      assert.equal(statSync(r.path).mode & 0o777, 0o600);
      paths.push(r.path);
    }
    const released = subset.flatMap((g, i) => ['--released', `${g}=${paths[i]}`]);
    const out = w.freshDir(`rel-${subset.join('-')}`);
    const res = ok(
      await w.kr(['recover', 'custodian', '--custodian', 'alice', '--session', start.session, ...released, '--out', out, '--json', '--passphrase-file', `alice=${newPass}`, ...(await w.quorumArgs('alice'))]),
      `recover with ${subset.join(',')}`,
    );
    await checkRecovered(w, res, out, orig, seen, subset, newPass);
    assert.ok(!existsSync(join(w.root, 'recovery', start.session, 'one-off.identity.age')), 'the one-off identity is removed after use');
  }
}

async function viaDrill(w: TestWorkspace, k: number) {
  const orig = await original(w);
  const newPass = w.extraPassphrase('alice', 'new');
  const seen = new Set<string>([orig.signingKey]);
  const combos = subsets(w.guardiansOf.alice!, k);
  assert.equal(combos.length, k === 2 ? 3 : 10);
  for (const subset of combos) {
    const out = w.freshDir(`drill-${subset.join('-')}`);
    const res = ok(
      await w.kr([
        'recover', 'custodian', '--custodian', 'alice',
        ...subset.flatMap((g) => ['--share', `${g}=${w.shareFile(g, 'alice')}`]),
        ...w.passArgs(...subset), '--passphrase-file', `alice=${newPass}`, ...(await w.quorumArgs('alice')), '--out', out, '--json',
      ]),
      `drill with ${subset.join(',')}`,
    );
    await checkRecovered(w, res, out, orig, seen, subset, newPass);
  }
}

// One workspace per (k, m), built once and copied, so that each path has its own.
const built = new Map<string, Promise<[TestWorkspace, TestWorkspace]>>();
function workspace(k: number, m: number, path: 'release' | 'drill'): Promise<TestWorkspace> {
  const key = `${k}-${m}`;
  // cloned as soon as it is built, before either path starts using it
  if (!built.has(key)) built.set(key, makeWorkspace({ k, m }).then((w) => [w, w.clone()]));
  return built.get(key)!.then(([w, copy]) => (path === 'release' ? w : copy));
}

test('custodian recovery from every k-subset of the guardians', { concurrency: 4 }, async (t) => {
  await Promise.all([
    t.test('2-of-3, released shares (3 subsets)', async () => viaRelease(await workspace(2, 3, 'release'), 2)),
    t.test('2-of-3, drill (3 subsets)', async () => viaDrill(await workspace(2, 3, 'drill'), 2)),
    t.test('3-of-5, released shares (10 subsets)', async () => viaRelease(await workspace(3, 5, 'release'), 3)),
    t.test('3-of-5, drill (10 subsets)', async () => viaDrill(await workspace(3, 5, 'drill'), 3)),
  ]);
});
