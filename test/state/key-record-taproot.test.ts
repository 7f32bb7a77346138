import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { schnorr } from '@noble/curves/secp256k1.js';
import { hex } from '../../src/base/canonical.js';
import { addressesOf, publicPackageOf } from '../../src/engine/index.js';
import { advanceEpoch, checkKeyRecord, type KeyRecord } from '../../src/state/key-record.js';
import { identities, names, runDkg } from '../support/engine.js';

// A bip340 key record carries its internal key x(P); loading it (checkKeyRecord, which the fold
// runs on every keygen.result, refresh.result and reshare.result) refuses one whose internal key
// does not give its public key, and a new epoch may not change it (advanceEpoch).

async function recordOf(engine: 'bip340' | 'ed25519'): Promise<KeyRecord> {
  const parties = names(3);
  const pkg = publicPackageOf(Object.values(await runDkg(engine, parties, 2, await identities(parties)))[0]!);
  return {
    v: 1, keyId: pkg.keyId, label: 'k', engine, epoch: 1, publicKey: pkg.groupPublicKey,
    ...(pkg.internalKey === undefined ? {} : { internalKey: pkg.internalKey }), threshold: 2,
    // checkKeyRecord checks the pins' shape only; the fold compares them with the roster.
    parties: parties.map((p, i) => ({ party: p, node: p, custodian: ['alice', 'bob', 'carol'][i]!, recipient: `age1pin${i}`, fingerprint: String(i).repeat(40) })),
    publicPackage: pkg, addresses: addressesOf(engine, pkg.groupPublicKey), status: 'active',
  };
}

const damaged = (...mentions: string[]) => (e: { code?: string; message?: string }) =>
  e.code === 'DAMAGED_FILE' && mentions.every((m) => e.message!.includes(m));

describe('the internal key of a bip340 key record', () => {
  let r: KeyRecord;
  let forged: string;
  before(async () => {
    r = await recordOf('bip340');
    forged = hex(schnorr.utils.pointToBytes(schnorr.Point.BASE.multiply(3n)));
  });

  test('a record as keygen makes it loads, internal key and all', () => {
    assert.match(r.internalKey!, /^[0-9a-f]{64}$/);
    assert.deepEqual(checkKeyRecord(structuredClone(r), 'the record'), r);
  });

  test('an internal key that does not tweak to the public key is refused, naming the key', () => {
    const tampered = { ...r, internalKey: forged, publicPackage: { ...r.publicPackage, internalKey: forged } };
    assert.throws(() => checkKeyRecord(tampered, 'the record'), damaged(r.keyId, forged, 'tweaks'));
  });

  test('a summary that differs from its public package is refused', () => {
    assert.throws(() => checkKeyRecord({ ...r, internalKey: forged }, 'the record'), damaged(r.keyId, 'internal key'));
    const { internalKey: _p, ...without } = r;
    assert.throws(() => checkKeyRecord(without, 'the record'), damaged(r.keyId, 'internal key'));
  });

  test('an ed25519 record with an internal key is refused', async () => {
    const e = await recordOf('ed25519');
    assert.equal(e.internalKey, undefined);
    assert.throws(() => checkKeyRecord({ ...e, internalKey: forged }, 'the record'), damaged(e.keyId, 'internal key'));
  });

  test('a new epoch keeps the internal key; a changed one is refused', () => {
    const next = { ...r, epoch: 2, publicPackage: { ...r.publicPackage, epoch: 2 } };
    assert.equal(advanceEpoch(r, next), next);
    assert.throws(() => advanceEpoch(r, { ...next, internalKey: forged }), (e: { code?: string; message?: string }) => e.code === 'BAD_CHANGE' && e.message!.includes(r.keyId) && e.message!.includes(forged));
  });
});
