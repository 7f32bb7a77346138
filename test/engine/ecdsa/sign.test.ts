import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { getEngine, publicPackageOf, type Share } from '../../../src/engine/index.js';
import { identities, names, runDkg, runSign } from '../../support/engine.js';
import { nobleVerifies, opensslVerifies, pick, recovered, sha256, subsets } from './support.js';

// DKLs23 signing through the authenticated protocol runner: every signer subset of 2-of-3 and
// 3-of-5 signs; each signature verifies with OpenSSL and noble, is low-s, recovers the group key
// from (r, s, v); an altered digest fails.

for (const [t, n] of [[2, 3], [3, 5]] as const) {
  test(`ecdsa ${t}-of-${n}: DKG, then every signer subset of at least t signs a digest that OpenSSL and noble verify`, async () => {
    const parties = names(n);
    const ids = await identities(parties);
    const shares = (await runDkg('ecdsa', parties, t, ids)) as Record<string, Share>;
    const pub = publicPackageOf(shares[parties[0]!]!);
    for (const s of Object.values(shares)) {
      assert.equal(s.groupPublicKey, pub.groupPublicKey);
      assert.equal(s.epoch, 1);
      assert.deepEqual(Object.keys(s.pairwise!).sort(), parties.filter((p) => p !== s.party).sort());
      assert.equal(JSON.stringify(publicPackageOf(s)).includes('pairwise'), false, 'the public package holds no OT state');
    }
    const engine = getEngine('ecdsa');
    // Every signer set of at least t holders.
    const sets = Array.from({ length: n - t + 1 }, (_, k) => subsets(parties, t + k)).flat();
    for (const set of sets) {
      const message = new TextEncoder().encode(`keyrite ecdsa ${set.join('+')}`);
      const digest = sha256(message);
      const sig = await runSign(pick(shares, set), digest, ids);
      assert.equal(sig.length, 130, 'r ‖ s ‖ v');
      assert.ok(opensslVerifies(pub.groupPublicKey, message, sig), `OpenSSL verifies the signature by ${set.join(',')}`);
      assert.ok(nobleVerifies(pub.groupPublicKey, digest, sig));
      assert.ok(engine.verify(pub.groupPublicKey, digest, sig));
      assert.equal(secp256k1.Signature.fromBytes(Buffer.from(sig.slice(0, 128), 'hex')).hasHighS(), false, 'low s');
      assert.equal(recovered(digest, sig), pub.groupPublicKey, 'recovery id gives back the group key');
      const altered = Uint8Array.from(digest);
      altered[31]! ^= 1;
      assert.equal(nobleVerifies(pub.groupPublicKey, altered, sig), false);
      assert.equal(engine.verify(pub.groupPublicKey, altered, sig), false);
      assert.equal(opensslVerifies(pub.groupPublicKey, Buffer.concat([message, Buffer.from('!')]), sig), false);
      const wrongV = sig.slice(0, 128) + (parseInt(sig.slice(128), 16) ^ 1).toString(16).padStart(2, '0');
      assert.equal(engine.verify(pub.groupPublicKey, digest, wrongV), false, 'a wrong recovery id is refused');
    }
  });
}

test('ecdsa: combine (emergency) recovers the private key of the group key from t shares; below t is refused', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  const shares = (await runDkg('ecdsa', parties, 2, ids)) as Record<string, Share>;
  const engine = getEngine('ecdsa');
  const key = engine.combine(pick(shares, ['node-1', 'node-3']));
  assert.equal(secp256k1.getPublicKey(Buffer.from(key.scalar, 'hex'), true).reduce((h, b) => h + b.toString(16).padStart(2, '0'), ''), shares['node-1']!.groupPublicKey);
  assert.throws(() => engine.combine(pick(shares, ['node-2'])), (e: { code?: string }) => e.code === 'COMBINE_TOO_FEW_SHARES');
  // A normal signature with the recovered key verifies under the group key too.
  const digest = sha256(new TextEncoder().encode('emergency'));
  const sig = secp256k1.sign(digest, Buffer.from(key.scalar, 'hex'), { prehash: false });
  assert.ok(secp256k1.verify(sig, digest, Buffer.from(shares['node-1']!.groupPublicKey, 'hex'), { prehash: false }));
});
