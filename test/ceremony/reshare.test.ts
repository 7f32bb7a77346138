import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { schnorr } from '@noble/curves/secp256k1.js';
import { everyone, keygen, lifecycleWorkspace, nodeShareFiles, readShard, shardFile } from '../support/lifecycle.js';
import { ok, type TestWorkspace } from '../support/workspace.js';

// keyrite reshare through the CLI (CEREMONY.md, "Resharing a key"): a custodian leaves (3 → 2
// holders), then comes back (2 → 3); the public key and addresses never move, the epoch does,
// every new shard is receipted and every node is empty; BIP-340 signatures verify with noble.

let tw: TestWorkspace;
let key: any;

before(async () => {
  tw = await lifecycleWorkspace();
  key = await keygen(tw, 'bip340');
});

const reshare = (custodians: string, more: string[] = []) =>
  tw.kr(['reshare', '--json', '--key', key.keyId, '--custodians', custodians, ...more, '--approvers', 'alice,bob', ...everyone(tw)]);

describe('keyrite reshare', { concurrency: 1 }, () => {
  test('carol leaves: alice and bob hold the key 2-of-2 at epoch 2, same public key', async () => {
    const out = ok(await reshare('alice,bob', ['--threshold', '2', '--dealers', 'bob,carol']), 'reshare');
    assert.deepEqual([out.epochBefore, out.epoch], [1, 2]);
    assert.equal(out.after.publicKey, key.publicKey);
    assert.deepEqual(out.after.addresses, key.addresses);
    assert.deepEqual(out.custodians, ['alice', 'bob']);
    assert.equal(out.export.nodesEmpty, true);
    assert.deepEqual(nodeShareFiles(tw), []);
    const shard = await readShard(tw, 'alice', shardFile(tw, 'alice', key.keyId, 2));
    assert.deepEqual(shard.share.parties, ['node-1', 'node-2']);
  });

  test('carol comes back: 2-of-3 at epoch 3, and alice and carol sign a BIP-340 signature noble verifies', async () => {
    const out = ok(await reshare('alice,bob,carol'), 'reshare back');
    assert.deepEqual([out.epochBefore, out.epoch, out.threshold], [2, 3, 2]);
    assert.equal(out.after.publicKey, key.publicKey);
    const msg = Buffer.alloc(32, 7);
    const signed = ok(await tw.kr(['sign', '--json', '--key', key.keyId, '--signer', 'alice', '--signer', 'carol', '--message-hex', msg.toString('hex'), ...everyone(tw)]), 'sign');
    assert.ok(schnorr.verify(Buffer.from(signed.signature, 'hex'), msg, Buffer.from(key.publicKey, 'hex')));
    ok(await tw.kr(['audit', 'verify', '--json']), 'audit verify');
  });
});
