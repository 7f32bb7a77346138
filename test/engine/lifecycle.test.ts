import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { fromHex, hex } from '../../src/base/canonical.js';
import { addressesOf, getEngine, publicPackageOf, signParty, solanaAddress, taprootAddress, type Share } from '../../src/engine/index.js';
import { expectBlame, identities, independentVerify, keySession, msg32, names, runDkg, runRefresh, runReshare, runSign } from '../support/engine.js';

const ENGINES = ['ed25519', 'bip340'] as const;
const messageFor = (engine: string, tag: string): Uint8Array => (engine === 'bip340' ? msg32(tag) : new TextEncoder().encode(tag));
const code = (c: string) => (e: { code?: string }) => e.code === c;

for (const engine of ENGINES) {
  test(`${engine}: refresh keeps the key and addresses, new shares sign, old and new do not mix`, async () => {
    const parties = names(3);
    const ids = await identities(parties);
    const old = await runDkg(engine, parties, 2, ids);
    const fresh = await runRefresh(Object.values(old), ids);
    const a = fresh['node-1']!;
    assert.equal(a.groupPublicKey, old['node-1']!.groupPublicKey);
    assert.equal(a.keyId, old['node-1']!.keyId);
    assert.equal(a.epoch, 2);
    assert.notEqual(a.secret, old['node-1']!.secret);
    assert.deepEqual(addressesOf(engine, a.groupPublicKey), addressesOf(engine, old['node-1']!.groupPublicKey));
    const message = messageFor(engine, 'after refresh');
    const sig = await runSign([fresh['node-1']!, fresh['node-3']!], message, ids);
    assert.ok(independentVerify(engine, a.groupPublicKey, message, sig));
    // Mixing: an old share in an epoch-2 session is refused before any work ...
    const session = keySession(a, ['node-1', 'node-2'], ids);
    assert.throws(() => signParty({ session, keys: ids.keys['node-2']!, roster: ids.roster }, { share: old['node-2']!, message }), code('SHARE_WRONG_EPOCH'));
    // ... an old secret relabelled as epoch 2 does not match the new verifying share ...
    const relabelled: Share = { ...fresh['node-2']!, secret: old['node-2']!.secret };
    assert.throws(() => getEngine(engine).parseShare(relabelled, 'relabelled share'), code('SHARE_INVALID'));
    // ... and, as raw numbers, old and new shares interpolate to something other than the key.
    const Fn = (engine === 'ed25519' ? ed25519 : schnorr).Point.Fn;
    const mixed = getEngine(engine).combine([fresh['node-1']!, fresh['node-2']!]).scalar;
    assert.ok(mixed); // the new pair combines fine
    const raw = (s: Share) => Fn.fromBytes(fromHex(s.secret, 's'));
    // λ for ids {1,2} at 0: λ1 = 2, λ2 = −1.
    const mixedScalar = Fn.sub(Fn.mul(2n, raw(fresh['node-1']!)), raw(old['node-2']!));
    assert.notEqual(hex(Fn.toBytes(mixedScalar)), mixed);
    assert.throws(() => getEngine(engine).combine([fresh['node-1']!, old['node-2']!]), code('COMBINE_MIXED_SHARES'));
  });

  test(`${engine}: reshare 2-of-3 → 3-of-5 with new holders keeps the key; threshold is enforced`, async () => {
    const oldParties = names(3);
    const newParties = ['node-2', 'node-3', 'new-1', 'new-2', 'new-3'];
    const ids = await identities([...oldParties, 'new-1', 'new-2', 'new-3']);
    const old = await runDkg(engine, oldParties, 2, ids);
    const pkg = publicPackageOf(old['node-1']!);
    const out = await runReshare(pkg, [old['node-1']!, old['node-2']!], newParties, 3, ids);
    assert.equal(out['node-1'], null, 'a dealer who is not a new holder gets nothing');
    const next = newParties.map((p) => out[p]!);
    for (const s of next) {
      assert.equal(s.groupPublicKey, pkg.groupPublicKey);
      assert.equal(s.epoch, 2);
      assert.equal(s.threshold, 3);
      assert.deepEqual(s.parties, newParties);
    }
    assert.deepEqual(addressesOf(engine, next[0]!.groupPublicKey), addressesOf(engine, pkg.groupPublicKey));
    const message = messageFor(engine, 'after reshare');
    const sig = await runSign([out['new-1']!, out['node-3']!, out['new-3']!], message, ids);
    assert.ok(independentVerify(engine, pkg.groupPublicKey, message, sig));
    // Below the new threshold: refused.
    const two = [out['new-1']!, out['new-2']!];
    await assert.rejects(runSign(two, message, ids), code('BELOW_THRESHOLD'));
    assert.throws(() => getEngine(engine).sign({ share: two[0]!, signers: ['new-1', 'new-2'], message }), code('BELOW_THRESHOLD'));
    assert.throws(() => getEngine(engine).combine(two), code('COMBINE_TOO_FEW_SHARES'));
    // Reshare to entirely new holders, 2-of-2 → same key again.
    const again = await runReshare(publicPackageOf(next[0]!), [out['new-1']!, out['new-2']!, out['new-3']!], ['new-1', 'node-1'], 2, ids);
    assert.equal(again['new-1']!.epoch, 3);
    const sig2 = await runSign([again['new-1']!, again['node-1']!], message, ids);
    assert.ok(independentVerify(engine, pkg.groupPublicKey, message, sig2));
  });

  test(`${engine}: a reshare dealer that deals something other than λ·(its share) is named`, async () => {
    const parties = names(3);
    const ids = await identities(parties);
    const old = await runDkg(engine, parties, 2, ids);
    const pkg = publicPackageOf(old['node-1']!);
    // node-2 deals from node-3's share instead of its own (a commitment to the wrong value).
    const forged: Share = { ...old['node-2']!, secret: old['node-1']!.secret, party: 'node-2' };
    const engineObj = getEngine(engine);
    const rounds = engineObj.reshare({ me: 'node-1', old: pkg, share: old['node-1']!, dealers: ['node-1', 'node-2'], holders: parties, threshold: 2 });
    // Bypass parseShare (which would refuse the forged share) by building node-2's commitment raw.
    const { reshareRounds } = await import('../../src/engine/reshare.js');
    const { SUITES } = await import('../../src/engine/suite.js');
    const bad = reshareRounds(SUITES[engine]!, { me: 'node-2', old: pkg, share: forged, dealers: ['node-1', 'node-2'], holders: parties, threshold: 2 });
    assert.throws(() => rounds.round2({ 'node-1': rounds.round1(), 'node-2': bad.round1() }), (e: { code?: string; party?: string }) => e.code === 'PROTOCOL_INVALID_COMMITMENT' && e.party === 'node-2');
  });

  test(`${engine}: combine returns the group key's scalar and refuses too few or wrong shares`, async () => {
    const parties = names(5);
    const ids = await identities(parties);
    const shares = await runDkg(engine, parties, 3, ids);
    const e = getEngine(engine);
    const key = e.combine([shares['node-1']!, shares['node-4']!, shares['node-5']!]);
    const pk = shares['node-1']!.groupPublicKey;
    // Independent check of scalar·G == group key.
    if (engine === 'ed25519') {
      const Fn = ed25519.Point.Fn;
      assert.equal(hex(ed25519.Point.BASE.multiply(Fn.fromBytes(fromHex(key.scalar, 's'))).toBytes()), pk);
      assert.match(key.kind, /not an RFC 8032 seed/);
    } else {
      assert.equal(hex(schnorr.getPublicKey(fromHex(key.scalar, 's'))), pk);
    }
    assert.equal(key.publicKey, pk);
    assert.throws(() => e.combine([shares['node-1']!, shares['node-2']!]), code('COMBINE_TOO_FEW_SHARES'));
    const wrong: Share = { ...shares['node-2']!, secret: shares['node-3']!.secret };
    assert.throws(() => e.combine([shares['node-1']!, wrong, shares['node-3']!]), (err: { code?: string; party?: string }) => err.code === 'SHARE_INVALID' && err.party === 'node-2');
    assert.throws(() => e.combine([shares['node-1']!, shares['node-1']!, shares['node-3']!]), code('COMBINE_DUPLICATE_SHARE'));
  });
}

test('refresh with an invalid sub-share names the dealer', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  const old = await runDkg('bip340', parties, 2, ids);
  const { openDirect, sealDirect, signEnvelope } = await import('../../src/engine/index.js');
  await expectBlame(
    () =>
      runRefresh(Object.values(old), ids, async (env, to) => {
        if (env.round !== 'refresh.2' || env.from !== 'node-3' || to !== 'node-1') return [env];
        const st = await openDirect(ids.keys[to]!.ageIdentity, env, ids.roster[env.from]!.signingPublicKey);
        const { body: _b, sig: _s, ...header } = st;
        const payload = await sealDirect(ids.keys[env.from]!.signingKey, header, { share: '00'.repeat(31) + '05' }, ids.roster[to]!.ageRecipient);
        const { sig: _e, ...unsigned } = { ...env, payload };
        return [signEnvelope(ids.keys[env.from]!.signingKey, unsigned)];
      }),
    'PROTOCOL_INVALID_SHARE',
    'node-3',
  );
});

test('Taproot address of the BIP-86 test vector output key', () => {
  // BIP-86 (bitcoin/bips bip-0086.mediawiki), mnemonic "abandon … about", m/86'/0'/0'/0/0:
  // output key a60869f0…684c → bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr.
  assert.equal(
    taprootAddress('a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c'),
    'bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr',
  );
  assert.notEqual(taprootAddress('00'.repeat(32)), 'bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr');
});

test('Solana addresses of published keys', () => {
  // The System Program id is 32 zero bytes (Solana docs, "System Program": 11111111111111111111111111111111).
  assert.equal(solanaAddress('00'.repeat(32)), '11111111111111111111111111111111');
  // mrtnetwork/blockchain_utils, test/address/sol/test_vector.dart, first entry.
  assert.equal(solanaAddress('f98bc0832e705e2ba354fb4df4e521e622480fa08663280d3992e57df21001db'), 'Ho87cuS3aSRgUMCeMrV7uNCCWx6Fj2ytnufYQ1W7KCLr');
  assert.throws(() => solanaAddress('00'.repeat(31)));
});
