import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createPublicKey, verify } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { everyone, keygen, lifecycleWorkspace, nodeShareFiles, readShard, shardFile } from '../support/lifecycle.js';
import { ok, type TestWorkspace } from '../support/workspace.js';

// keyrite repair through the CLI (CEREMONY.md, "Repairing a lost shard"): alice loses her shard;
// bob and carol help rebuild the very same share, the epoch and every other share unchanged; the
// nodes end empty; alice signs again and the signature verifies with OpenSSL.

let tw: TestWorkspace;
let key: any;

const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const verifiesEd25519 = (pub: string, msg: Buffer, sig: string) =>
  verify(null, msg, createPublicKey({ key: Buffer.concat([ED25519_SPKI, Buffer.from(pub, 'hex')]), format: 'der', type: 'spki' }), Buffer.from(sig, 'hex'));

before(async () => {
  tw = await lifecycleWorkspace();
  key = await keygen(tw, 'ed25519');
});

describe('keyrite repair', { concurrency: 1 }, () => {
  test('alice\'s lost shard is rebuilt by bob and carol: the same share, the same epoch; she signs again', async () => {
    const before = await readShard(tw, 'alice', shardFile(tw, 'alice', key.keyId));
    rmSync(shardFile(tw, 'alice', key.keyId));
    const out = ok(await tw.kr(['repair', '--json', '--key', key.keyId, '--custodian', 'alice', '--helpers', 'bob,carol', '--approvers', 'bob,carol', ...everyone(tw)]), 'repair');
    assert.equal(out.epoch, 1);
    assert.equal(out.publicKey, key.publicKey);
    assert.equal(out.export.nodesEmpty, true);
    assert.deepEqual(nodeShareFiles(tw), []);
    const after = await readShard(tw, 'alice', shardFile(tw, 'alice', key.keyId));
    assert.equal(after.share.secret, before.share.secret);
    const msg = Buffer.from('after repair');
    const signed = ok(await tw.kr(['sign', '--json', '--key', key.keyId, '--signer', 'alice', '--signer', 'carol', '--message-hex', msg.toString('hex'), ...everyone(tw)]), 'sign');
    assert.ok(verifiesEd25519(key.publicKey, msg, signed.signature));
    ok(await tw.kr(['audit', 'verify', '--json']), 'audit verify');
  });
});
