import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEngine, publicPackageOf, signParty, type Share } from '../../../src/engine/index.js';
import { identities, keySession, names, runDkg, runRefresh, runReshare, runSign } from '../../support/engine.js';
import { opensslVerifies, pick, sha256 } from './support.js';

// Refresh and reshare of an ecdsa key: same public key, epoch + 1, every pairwise OT state
// renewed; the new shares sign; old and new shares cannot be mixed.

const code = (c: string) => (e: { code?: string }) => e.code === c;

test('ecdsa refresh: same key, epoch 2, new OT state; new shares sign; old and new do not mix', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  const old = (await runDkg('ecdsa', parties, 2, ids)) as Record<string, Share>;
  const next = (await runRefresh(Object.values(old), ids)) as Record<string, Share>;
  const engine = getEngine('ecdsa');
  for (const p of parties) {
    assert.equal(next[p]!.groupPublicKey, old[p]!.groupPublicKey);
    assert.equal(next[p]!.keyId, old[p]!.keyId);
    assert.equal(next[p]!.epoch, 2);
    assert.notEqual(next[p]!.secret, old[p]!.secret);
    for (const q of parties.filter((x) => x !== p)) {
      assert.notEqual(next[p]!.pairwise![q]!.send.delta, old[p]!.pairwise![q]!.send.delta, 'pairwise OT state renewed');
      assert.notEqual(next[p]!.pairwise![q]!.receive.seeds0, old[p]!.pairwise![q]!.receive.seeds0);
    }
    engine.parseShare(next[p], 'new share');
  }
  const message = new TextEncoder().encode('after refresh');
  const sig = await runSign(pick(next, ['node-1', 'node-3']), sha256(message), ids);
  assert.ok(opensslVerifies(next['node-1']!.groupPublicKey, message, sig));
  // Mixing: an old share in a new-epoch session is refused before any work …
  const session = keySession(next['node-1']!, ['node-1', 'node-2'], ids);
  assert.throws(() => signParty({ session, keys: ids.keys['node-2']!, roster: ids.roster }, { share: old['node-2']!, message: sha256(message) }), code('SHARE_WRONG_EPOCH'));
  // … an old share relabelled as epoch 2 does not parse (its secret is not the new verifying share) …
  const relabelled = { ...next['node-2']!, secret: old['node-2']!.secret };
  assert.throws(() => engine.parseShare(relabelled, 'relabelled share'), code('SHARE_INVALID'));
  // … and the emergency combine refuses a mix.
  assert.throws(() => engine.combine([old['node-1']!, next['node-2']!]), code('COMBINE_MIXED_SHARES'));
  assert.equal(engine.combine([next['node-1']!, next['node-2']!]).publicKey, next['node-1']!.groupPublicKey);
  // A share with a missing or truncated pairwise entry does not parse.
  const { pairwise, ...bare } = next['node-1']!;
  assert.throws(() => engine.parseShare(bare, 'bare share'), code('SHARE_INVALID'));
  const cut = { ...next['node-1']!, pairwise: { ...pairwise, 'node-2': { ...pairwise!['node-2']!, send: { ...pairwise!['node-2']!.send, seeds: pairwise!['node-2']!.send.seeds.slice(2) } } } };
  assert.throws(() => engine.parseShare(cut, 'cut share'), code('SHARE_INVALID'));
  assert.throws(() => engine.parseShare({ ...next['node-1']!, pairwise: { ...pairwise, stranger: pairwise!['node-2'] } }, 'extra entry'), code('SHARE_INVALID'));
});

test('ecdsa reshare: 2-of-3 to 2-of-3 with a replaced holder and to 3-of-4; same key; new holders sign', async () => {
  const parties = names(3);
  const ids = await identities([...parties, 'new-1', 'new-2']);
  const old = (await runDkg('ecdsa', parties, 2, ids)) as Record<string, Share>;
  const pkg = publicPackageOf(old['node-1']!);
  const holders = ['node-1', 'new-1', 'node-3'];
  const out = await runReshare(pkg, pick(old, ['node-1', 'node-2']), holders, 2, ids);
  assert.equal(out['node-2'], null, 'a dealer who is not a new holder keeps nothing');
  const next = Object.fromEntries(holders.map((h) => [h, out[h]!])) as Record<string, Share>;
  for (const h of holders) {
    assert.equal(next[h]!.groupPublicKey, pkg.groupPublicKey);
    assert.equal(next[h]!.epoch, 2);
    assert.deepEqual(Object.keys(next[h]!.pairwise!).sort(), holders.filter((x) => x !== h).sort());
  }
  const message = new TextEncoder().encode('after reshare');
  assert.ok(opensslVerifies(pkg.groupPublicKey, message, await runSign(pick(next, ['new-1', 'node-3']), sha256(message), ids)));
  const wider = ['node-1', 'new-1', 'node-3', 'new-2'];
  const out2 = await runReshare(publicPackageOf(next['node-1']!), pick(next, ['new-1', 'node-3']), wider, 3, ids);
  const third = Object.fromEntries(wider.map((h) => [h, out2[h]!])) as Record<string, Share>;
  assert.equal(third['new-2']!.epoch, 3);
  assert.ok(opensslVerifies(pkg.groupPublicKey, message, await runSign(pick(third, ['node-1', 'new-2', 'node-3']), sha256(message), ids)));
  // Old-epoch share and new-epoch share in one signing session: refused.
  const session = keySession(third['node-1']!, ['node-1', 'new-1', 'node-3'], ids);
  assert.throws(() => signParty({ session, keys: ids.keys['new-1']!, roster: ids.roster }, { share: next['new-1']!, message: sha256(message) }), code('SHARE_WRONG_EPOCH'));
});
