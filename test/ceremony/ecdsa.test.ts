import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { opensslEcdsaVerifies } from '../../src/ceremony/independent-verify.js';
import { ECDSA_LABEL } from '../../src/engine/index.js';
import { CUSTODIANS, everyone, lifecycleWorkspace, nodeShareFiles, steps } from '../support/lifecycle.js';
import { nodesArg, serve, type Served } from '../support/serve.js';
import { ok, refused, type TestWorkspace } from '../support/workspace.js';

// The ecdsa engine through the real CLI and three real `keyrite node serve` processes: keygen
// with export and deletion says the engine is keyrite's own and unaudited, key show gives the
// Ethereum and P2WPKH addresses, sign returns r, s and v over a 32-byte digest that OpenSSL
// verifies and from which the group key is recovered, shard check opens a shard, and the
// evidence verifies.

describe('ecdsa keys through the CLI on served nodes', () => {
  let tw: TestWorkspace;
  const servers: Served[] = [];
  let nodes: string;
  let k: any;

  before(async () => {
    tw = await lifecycleWorkspace();
    for (const id of ['node-1', 'node-2', 'node-3']) servers.push(await serve(tw.root, id));
    nodes = nodesArg(servers);
    k = ok(await tw.kr(['keygen', '--json', '--engine', 'ecdsa', '--custodians', CUSTODIANS.join(','), '--label', 'eth-treasury', '--export', '--delete-after-export', '--nodes', nodes, ...everyone(tw)]));
  });
  after(() => {
    for (const s of servers) s.child.kill('SIGTERM');
  });

  test('keygen says the engine is keyrite\'s own, unaudited; the nodes are empty; key show has Ethereum and P2WPKH addresses', async () => {
    assert.equal(k.engine, 'ecdsa');
    assert.equal(k.notice, ECDSA_LABEL);
    assert.match(k.notice, /not been externally audited/);
    assert.equal(k.nodesEmpty, true);
    assert.deepEqual(nodeShareFiles(tw), []);
    const shown = ok(await tw.kr(['key', 'show', '--json', '--key', k.keyId]));
    assert.match(shown.key.addresses.ethereum, /^0x[0-9a-fA-F]{40}$/);
    assert.match(shown.key.addresses.p2wpkh, /^bc1q[02-9ac-hj-np-z]{38}$/);
    const text = await tw.kr(['key', 'show', '--key', k.keyId]);
    assert.match(text.stdout, /ethereum address: 0x/);
  });

  test('sign returns r, s, v over a 32-byte digest; OpenSSL verifies it and (r, s, v) recovers the group key', async () => {
    const tx = Buffer.from('an Ethereum transaction, as its signing hash would be computed');
    const digest = createHash('sha256').update(tx).digest();
    const r = ok(await tw.kr(['sign', '--json', '--key', k.keyId, '--signer', 'bob', '--signer', 'carol', '--message-hex', digest.toString('hex'), '--nodes', nodes, ...everyone(tw)]));
    assert.equal(r.signature, r.r + r.s + r.v.toString(16).padStart(2, '0'));
    assert.ok(opensslEcdsaVerifies(r.publicKey, tx, r.signature), 'OpenSSL verifies ECDSA-SHA256 over the transaction');
    assert.ok(!opensslEcdsaVerifies(r.publicKey, Buffer.concat([tx, Buffer.from('!')]), r.signature), 'and not over another one');
    const sig = secp256k1.Signature.fromBytes(Buffer.from(r.r + r.s, 'hex')).addRecoveryBit(r.v);
    assert.equal(sig.recoverPublicKey(digest).toHex(true), k.publicKey);
    assert.ok(BigInt('0x' + r.s) <= secp256k1.Point.Fn.ORDER / 2n, 'low s');
    assert.deepEqual(nodeShareFiles(tw), []);
    const s = steps(tw, r.ceremony).filter((x) => x.step === 'node.attest');
    assert.deepEqual(s.map((x) => x.actor), ['node-2', 'node-3']);
  });

  test('a message that is not a 32-byte digest is refused before anyone unlocks', async () => {
    refused(await tw.kr(['sign', '--json', '--key', k.keyId, '--signer', 'bob', '--signer', 'carol', '--message-hex', 'ab'.repeat(31), '--nodes', nodes, ...everyone(tw)]), 2, 'BAD_MESSAGE', ['32-byte']);
  });

  test('shard check opens an ecdsa shard, and the whole history verifies', async () => {
    const c = ok(await tw.kr(['shard', 'check', '--json', '--key', k.keyId, '--custodian', 'alice', ...tw.passArgs('alice')]));
    assert.equal(c.party, 'node-1');
    ok(await tw.kr(['audit', 'verify', '--json']));
  });
});
