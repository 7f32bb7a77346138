import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { addressesOf, ECDSA_LABEL } from '../../../src/engine/index.js';
import { eip55, ethereumAddress, p2wpkhAddress } from '../../../src/engine/ecdsa/address.js';

// Addresses of an ecdsa key through the same code `addressesOf` uses. Sources of the vectors:
// the well-known Ethereum test key 0x4c08…2318 and its account 0x2c75…5c23 (eth-account's
// documentation and many wallets' test suites); EIP-55's own examples; BIP-173's P2WPKH example
// (the compressed generator point → bc1qw508…f3t4).

test('a published Ethereum private key gives its published address', () => {
  const pub = secp256k1.getPublicKey(Buffer.from('4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318', 'hex'), true);
  const hexKey = Buffer.from(pub).toString('hex');
  assert.equal(ethereumAddress(hexKey), '0x2c7536E3605D9C16a7a3D7b1898e529396a65c23');
  assert.equal(addressesOf('ecdsa', hexKey).ethereum, '0x2c7536E3605D9C16a7a3D7b1898e529396a65c23');
});

test('EIP-55: the EIP\'s examples, from lower case and as given', () => {
  for (const a of [
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB', '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    '0x52908400098527886E0F7030069857D2E4169EE7', '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
    '0xde709f2102306220921060314715629080e2fb77', '0x27b1fdb04752bbc536007a920d24acb045561c26',
  ]) {
    assert.equal(eip55(a.toLowerCase()), a);
    assert.equal(eip55(a), a);
  }
  assert.throws(() => eip55('0x1234'));
});

test('P2WPKH: BIP-173\'s example key gives its address; addressesOf lists both for ecdsa', () => {
  const g = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
  assert.equal(p2wpkhAddress(g), 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
  assert.deepEqual(Object.keys(addressesOf('ecdsa', g)).sort(), ['ethereum', 'p2wpkh']);
  assert.throws(() => p2wpkhAddress(g.slice(2)));
});

test('the engine carries its not-audited label', () => {
  assert.match(ECDSA_LABEL, /own implementation/);
  assert.match(ECDSA_LABEL, /not been externally audited/);
});

test('engine verify refuses malformed keys, digests and signatures instead of throwing', async () => {
  const { getEngine } = await import('../../../src/engine/index.js');
  const engine = getEngine('ecdsa');
  const sk = secp256k1.utils.randomSecretKey();
  const pk = Buffer.from(secp256k1.getPublicKey(sk, true)).toString('hex');
  const digest = new Uint8Array(32).fill(9);
  const sig = secp256k1.sign(digest, sk, { prehash: false, format: 'recovered' });
  // noble's recovered format is v ‖ r ‖ s; the engine's is r ‖ s ‖ v.
  const ours = Buffer.from(sig.subarray(1)).toString('hex') + sig[0]!.toString(16).padStart(2, '0');
  assert.ok(engine.verify(pk, digest, ours));
  assert.ok(engine.verify(pk, digest, ours.slice(0, 128)), '64-byte r ‖ s is accepted');
  assert.equal(engine.verify(pk, digest.subarray(1), ours), false, '31-byte digest');
  assert.equal(engine.verify(pk.slice(2), digest, ours), false, 'truncated key');
  assert.equal(engine.verify(pk, digest, ours.slice(2)), false, 'truncated signature');
  assert.equal(engine.verify(pk, digest, ours.slice(0, 128) + '07'), false, 'recovery id out of range');
  assert.equal(engine.verify('02' + '00'.repeat(32), digest, ours), false, 'not a point');
});
