import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { fromHex, hex } from '../../src/base/canonical.js';
import {
  descriptorChecksum, getEngine, publicPackageOf, taprootAddress, taprootDescriptors, taprootOutputKey, type Share,
} from '../../src/engine/index.js';
import { identities, names, runDkg, runRefresh, runReshare } from '../support/engine.js';

// A bip340 key's internal key x(P) (BIP-341) and its wallet descriptors (BIP-380, BIP-386), against
// published vectors, and kept by the engine through DKG, refresh and reshare.

// BIP-86 "Test vectors", account 0, first receiving address (m/86'/0'/0'/0/0).
const BIP86 = {
  internalKey: 'cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115',
  outputKey: 'a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c',
  address: 'bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr',
};
// BIP-386 "Test Vectors": tr(KEY) gives scriptPubKey OP_1 <32-byte output key>; its checksum is
// the one Bitcoin Core's getdescriptorinfo prints (also in its descriptor tests).
const BIP386_KEY = 'a34b99f22c790c4e36b2b3c2c35a36db06226e41c692fc82b8b56ac1c540c5bd';
const BIP386_SCRIPT = '512077aab6e066f8a7419c5ab714c12c67d25007ed55a43cadcacb4d7a970a093f11';
const BIP386_CHECKSUM = 'dh4fyxrd';

const code = (c: string, ...mentions: string[]) => (e: { code?: string; message?: string }) =>
  e.code === c && mentions.every((m) => e.message!.includes(m));

test('BIP-86 vector: the internal key tweaks to the output key and its address', () => {
  const q = taprootOutputKey(BIP86.internalKey);
  assert.equal(q, BIP86.outputKey);
  assert.equal(taprootAddress(q), BIP86.address);
  // The untweaked key as an output key would give another address: the pitfall this record avoids.
  assert.notEqual(taprootAddress(BIP86.internalKey), BIP86.address);
});

test('BIP-386 vector: tr(KEY) gives OP_1 <output key>', () => {
  assert.equal(`5120${taprootOutputKey(BIP386_KEY)}`, BIP386_SCRIPT);
});

test('BIP-380 checksum: published descriptors, and an error in the payload changes it', () => {
  assert.equal(descriptorChecksum('raw(deadbeef)'), '89f8spxm'); // BIP-380 "Test Vectors": valid checksum
  assert.equal(descriptorChecksum(`tr(${BIP386_KEY})`), BIP386_CHECKSUM);
  assert.notEqual(descriptorChecksum('raw(deedbeef)'), '89f8spxm'); // BIP-380: "Error in payload"
  assert.throws(() => descriptorChecksum('raw(Ü)'), /character set/); // BIP-380: invalid characters
});

test('descriptors: tr() names the internal key, rawtr() the output key, each with its checksum', () => {
  const d = taprootDescriptors(BIP86.internalKey, BIP86.outputKey);
  assert.equal(d.tr, `tr(${BIP86.internalKey})#${descriptorChecksum(`tr(${BIP86.internalKey})`)}`);
  assert.equal(d.rawtr, `rawtr(${BIP86.outputKey})#${descriptorChecksum(`rawtr(${BIP86.outputKey})`)}`);
});

/** x(P) for P = d·G − t·G or −d·G − t·G, d the combined group secret: the key before the tweak. */
function untweakedCandidates(d: bigint, internalKey: string): string[] {
  const { Point } = schnorr;
  const t = bytesToNumberBE(schnorr.utils.taggedHash('TapTweak', fromHex(internalKey, 'P')));
  const minusT = Point.BASE.multiply(Point.Fn.neg(t));
  return [d, Point.Fn.neg(d)].map((s) => hex(schnorr.utils.pointToBytes(Point.BASE.multiply(s).add(minusT))));
}

test('bip340 DKG: every share carries the same internal key, whose tweak is the group key and whose secret the group holds', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  const shares = Object.values(await runDkg('bip340', parties, 2, ids));
  const internalKey = shares[0]!.internalKey!;
  assert.match(internalKey, /^[0-9a-f]{64}$/);
  for (const s of shares) assert.equal(s.internalKey, internalKey);
  assert.equal(taprootOutputKey(internalKey), shares[0]!.groupPublicKey);
  // Independently of the DKG's commitments: the group's secret minus the tweak is P's.
  const d = schnorr.Point.Fn.fromBytes(fromHex(getEngine('bip340').combine(shares.slice(0, 2)).scalar, 'd'));
  assert.ok(untweakedCandidates(d, internalKey).includes(internalKey));
});

test('ed25519 DKG: no internal key', async () => {
  const parties = names(3);
  const shares = Object.values(await runDkg('ed25519', parties, 2, await identities(parties)));
  for (const s of shares) assert.equal(s.internalKey, undefined);
});

test('bip340 refresh and reshare keep the internal key', async () => {
  const parties = names(3);
  const ids = await identities([...parties, 'new-1']);
  const old = await runDkg('bip340', parties, 2, ids);
  const internalKey = old['node-1']!.internalKey;
  const fresh = await runRefresh(Object.values(old), ids);
  for (const s of Object.values(fresh)) assert.equal(s.internalKey, internalKey, `${s.party} after refresh`);
  const holders = ['node-2', 'node-3', 'new-1'];
  const out = await runReshare(publicPackageOf(fresh['node-1']!), [fresh['node-1']!, fresh['node-2']!], holders, 2, ids);
  for (const h of holders) assert.equal(out[h]!.internalKey, internalKey, `${h} after reshare`);
  assert.equal(out['new-1']!.epoch, 3);
});

test('a bip340 package whose internal key does not tweak to its public key is refused, naming the key', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  const share: Share = Object.values(await runDkg('bip340', parties, 2, ids))[0]!;
  const pkg = publicPackageOf(share);
  const engine = getEngine('bip340');
  assert.deepEqual(engine.parsePublicPackage(pkg, 'the package'), pkg);
  const other = schnorr.utils.pointToBytes(schnorr.Point.BASE.multiply(7n));
  assert.throws(() => engine.parsePublicPackage({ ...pkg, internalKey: hex(other) }, 'the package'), code('SHARE_INVALID', pkg.keyId, 'tweaks'));
  assert.throws(() => engine.parseShare({ ...share, internalKey: hex(other) }, 'the share'), code('SHARE_INVALID', pkg.keyId));
  // The output key itself named as the internal key: the mistake a wallet makes with tr(x(Q)).
  assert.throws(() => engine.parsePublicPackage({ ...pkg, internalKey: pkg.groupPublicKey }, 'the package'), code('SHARE_INVALID', pkg.keyId));
  const { internalKey: _p, ...none } = pkg;
  assert.throws(() => engine.parsePublicPackage(none, 'the package'), code('SHARE_INVALID', 'internal key'));
  assert.throws(() => engine.parsePublicPackage({ ...pkg, internalKey: 'ff'.repeat(32) }, 'the package'), code('SHARE_INVALID', 'not a curve point'));
});

test('an ed25519 package with an internal key is refused', async () => {
  const parties = names(3);
  const pkg = publicPackageOf(Object.values(await runDkg('ed25519', parties, 2, await identities(parties)))[0]!);
  assert.throws(() => getEngine('ed25519').parsePublicPackage({ ...pkg, internalKey: BIP86.internalKey }, 'the package'), code('SHARE_INVALID', 'no internal key'));
});
