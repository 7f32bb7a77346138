import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { generateX25519Identity } from 'age-encryption';
import { sha256Hex } from '../../src/base/canonical.js';
import { recipientOf } from '../../src/base/age.js';
import { withSession } from '../../src/ceremony/kernel/session.js';
import { DemoOperator } from '../../src/ceremony/demo-operator.js';
import { envelopeBytes, shareRoleName, splitAgeKey } from '../../src/custody/guardian-share.js';
import { unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { replaceFile } from '../../src/fs/atomic.js';
import { Workspace } from '../../src/fs/workspace.js';
import { member } from '../../src/state/roster.js';
import { makeWorkspace, ok, refused, watch, type TestWorkspace } from '../support/workspace.js';

// A guardian set is bound to the roster (docs/ARCHITECTURE.md §2, "State from evidence"): it must
// split the age key whose recipient the roster holds for the custodian, and be signed by the key
// the custodian held when the set was recorded. Both forgeries are recorded here with the
// project's own ceremony code and the custodian's real keys, so the set file matches its digest
// in the transcript and the only defect is the one planted.

const unlockFile = (path: string, passphrase: string, name: string) => unlockIdentity(readFileSync(path), passphrase, name);

/** Records a custodian.setup for alice as `actor`, whose set and shares are made by `splitter`. */
async function recordSet(tw: TestWorkspace, actor: Identity, splitter: Identity): Promise<void> {
  const ws = new Workspace(tw.root);
  await withSession({ ws, operator: new DemoOperator(), label: 'test: a crafted guardian set' }, async (s) => {
    const guardians = tw.guardiansOf.alice!.map((g) => member(s.roster, g, 'guardian'));
    const { set, envelopes } = await splitAgeKey(splitter, guardians, tw.k);
    await s.run({ script: 'custodian-setup', actor, params: { custodian: 'alice', guardians: tw.guardiansOf.alice, k: set.k } }, async (c) => {
      const subjects = envelopes.map((e) => {
        const bytes = envelopeBytes(e);
        replaceFile(ws.guardianShareFile(e.guardian, 'alice'), bytes, 0o600);
        return { name: shareRoleName(e.guardian, set.setId), sha256: sha256Hex(bytes) };
      });
      const setBytes = JSON.stringify(set, null, 2) + '\n';
      replaceFile(ws.guardianSetFile('alice'), setBytes);
      await c.record({
        step: 'custodian.setup', actor,
        subjects: [{ name: ws.relative(ws.guardianSetFile('alice')), sha256: sha256Hex(setBytes) }, ...subjects],
        params: { custodian: 'alice', setId: set.setId, k: set.k, m: set.m, guardians: tw.guardiansOf.alice },
      });
      return {};
    });
  });
}

const check = (tw: TestWorkspace, g = 'g1') => tw.kr(['guardian', 'check', '--json', '--guardian', g, '--custodian', 'alice', ...tw.passArgs(g)]);

describe('a guardian set not bound to the roster is refused', () => {
  test('a set that splits another age key than the custodian\'s recipient on record', async () => {
    const tw = await makeWorkspace();
    ok(await check(tw), 'the honest set checks out first');
    const alice = await unlockFile(tw.identityFile('alice'), tw.passphrases.alice!, 'alice');
    const foreign = await generateX25519Identity();
    // Signed by alice's real key, recorded by alice: only the age key inside is someone else's.
    await recordSet(tw, alice, { ...alice, ageIdentity: foreign, recipient: await recipientOf(foreign) });
    const unchanged = watch(tw.root);
    refused(await check(tw), 1, 'WRONG_CUSTODIAN', ["alice's guardian set", 'recipient on record', alice.recipient]);
    refused(await tw.kr(['recover', 'custodian', '--json', '--custodian', 'alice', '--passphrase-file', `alice=${tw.extraPassphrase('alice', 'new')}`]), 1, 'WRONG_CUSTODIAN', ["alice's guardian set"]);
    unchanged();
  });

  test('a former signing key counts for the sets recorded while it was current, not for a later one', async () => {
    const tw = await makeWorkspace();
    const old = await unlockFile(tw.identityFile('alice'), tw.passphrases.alice!, 'alice');
    // A recovery drill gives alice a new Ed25519 key; her old key becomes a former key.
    const out = tw.freshDir('recovered');
    const newPass = tw.extraPassphrase('alice', 'new');
    ok(await tw.kr([
      'recover', 'custodian', '--custodian', 'alice', '--json', '--share', `g1=${tw.shareFile('g1', 'alice')}`, '--share', `g2=${tw.shareFile('g2', 'alice')}`,
      ...tw.passArgs('g1', 'g2'), '--passphrase-file', `alice=${newPass}`, ...(await tw.quorumArgs('alice')), '--out', out,
    ]));
    ok(await check(tw), 'the set signed by the old key, recorded while it was current, still counts');
    // Now a new set, recorded by alice's new key, but signed by the replaced one.
    const current = await unlockFile(join(out, 'alice.identity.age'), readFileSync(newPass, 'utf8').split('\n')[0]!, 'alice');
    assert.notEqual(current.signing.publicKey, old.signing.publicKey);
    await recordSet(tw, current, old);
    const unchanged = watch(tw.root);
    refused(await check(tw), 1, 'BAD_SIGNATURE', ["alice's guardian set", 'did not hold when the set was recorded']);
    unchanged();
  });
});
