import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { schnorr } from '@noble/curves/secp256k1.js';
import { hex } from '../../src/base/canonical.js';
import { descriptorChecksum, taprootAddress, taprootOutputKey } from '../../src/engine/index.js';
import { loadFixtureKeys, readChain, writeChain } from '../../fixtures/chain-tools.js';
import { snapshot } from '../support/cli.js';
import { keygen, lifecycleWorkspace, steps } from '../support/lifecycle.js';
import { assertUnchanged, ok, refused, type TestWorkspace } from '../support/workspace.js';

// A bip340 key in a standard wallet (issue 9, finding 17): keygen records the internal key x(P),
// `key show` gives tr(x(P)) and rawtr(x(Q)) with their BIP-380 checksums, and a keygen.result
// whose internal key does not give its public key is refused on load.

const DESCRIPTOR = /^(tr|rawtr)\(([0-9a-f]{64})\)#([02-9ac-hj-np-z]{8})$/;

describe('Taproot descriptors of a bip340 key', () => {
  let tw: TestWorkspace;
  let k: any;
  before(async () => {
    tw = await lifecycleWorkspace();
    k = await keygen(tw, 'bip340', []);
  });

  test('keygen.result and the key record carry the internal key', () => {
    const result = steps(tw, k.ceremony).find((x) => x.step === 'keygen.result')!;
    const record = result.result.record;
    assert.match(record.internalKey, /^[0-9a-f]{64}$/);
    assert.equal(record.publicPackage.internalKey, record.internalKey);
    assert.equal(record.publicKey, k.publicKey);
  });

  test('key show --json: internal key, tr() and rawtr(); the shown internal key tweaks to the shown key and address', async () => {
    const shown = ok(await tw.kr(['key', 'show', '--json', '--key', k.keyId])).key;
    const { internalKey, publicKey, descriptors } = shown;
    assert.match(internalKey, /^[0-9a-f]{64}$/);
    assert.notEqual(internalKey, publicKey);
    assert.equal(taprootOutputKey(internalKey), publicKey, 'BIP-341 tweak of x(P) is x(Q)');
    assert.equal(taprootAddress(taprootOutputKey(internalKey)), shown.addresses.p2tr, 'a tr(x(P)) wallet derives the address shown');
    const [, trKind, trKey, trSum] = DESCRIPTOR.exec(descriptors.tr)!;
    const [, rawKind, rawKey, rawSum] = DESCRIPTOR.exec(descriptors.rawtr)!;
    assert.deepEqual([trKind, trKey, rawKind, rawKey], ['tr', internalKey, 'rawtr', publicKey]);
    assert.equal(trSum, descriptorChecksum(`tr(${internalKey})`));
    assert.equal(rawSum, descriptorChecksum(`rawtr(${publicKey})`));
  });

  test('key show in text names the internal key and both descriptors', async () => {
    const r = await tw.kr(['key', 'show', '--key', k.keyId]);
    assert.equal(r.code, 0, r.stderr);
    const shown = ok(await tw.kr(['key', 'show', '--json', '--key', k.keyId])).key;
    for (const s of [shown.internalKey, shown.descriptors.tr, shown.descriptors.rawtr, shown.addresses.p2tr]) assert.ok(r.stdout.includes(s), `text output lacks ${s}`);
  });

  test('an ed25519 key shows neither internal key nor descriptors', async () => {
    const other = tw.clone();
    const e = await keygen(other, 'ed25519', []);
    const shown = ok(await other.kr(['key', 'show', '--json', '--key', e.keyId])).key;
    assert.equal(shown.engine, 'ed25519');
    assert.equal(shown.internalKey, undefined);
    assert.equal(shown.descriptors, undefined);
  });

  test('a keygen.result whose internal key does not give its public key is refused, naming the key', async () => {
    const bad = tw.clone();
    const forged = hex(schnorr.utils.pointToBytes(schnorr.Point.BASE.multiply(5n)));
    const entries = readChain(bad.root, await loadFixtureKeys(bad.root, bad.secretsDir));
    const record = (entries.find((e) => e.statement.predicate.step === 'keygen.result')!.statement.predicate.result as any).record;
    record.internalKey = forged;
    record.publicPackage.internalKey = forged;
    writeChain(bad.root, entries); // signed afresh with the real keys: only the fold's check stands in the way
    const before = snapshot(bad.root);
    refused(await bad.kr(['key', 'show', '--json', '--key', k.keyId]), 1, 'TRANSCRIPT_DAMAGED', [k.keyId, forged, 'internal key']);
    assertUnchanged(before, snapshot(bad.root), bad.root);
  });
});
