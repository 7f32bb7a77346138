import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { everyone, keygen, lifecycleWorkspace, nodeShareFiles, readShard, shardFile } from '../support/lifecycle.js';
import { ok, refused, type TestWorkspace } from '../support/workspace.js';

// keyrite refresh through the CLI (CEREMONY.md, "Refreshing a key"): every share renewed under
// the custodians' quorum, the same public key and addresses at the next epoch, the new shards
// receipted and the nodes empty; the old shards refused by the nodes; old and new shares never
// sign together.

let tw: TestWorkspace;
let key: any;

const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const verifiesEd25519 = (pub: string, msg: Buffer, sig: string) =>
  verify(null, msg, createPublicKey({ key: Buffer.concat([ED25519_SPKI, Buffer.from(pub, 'hex')]), format: 'der', type: 'spki' }), Buffer.from(sig, 'hex'));

before(async () => {
  tw = await lifecycleWorkspace();
  key = await keygen(tw, 'ed25519');
});

describe('keyrite refresh', { concurrency: 1 }, () => {
  test('renews every share: same public key and addresses, epoch 2, receipted, nodes empty; signing works with the new shards', async () => {
    const out = ok(await tw.kr(['refresh', '--json', '--key', key.keyId, '--approvers', 'bob,carol', ...everyone(tw)]), 'refresh');
    assert.equal(out.epochBefore, 1);
    assert.equal(out.epoch, 2);
    assert.equal(out.before.publicKey, key.publicKey);
    assert.equal(out.after.publicKey, key.publicKey);
    assert.deepEqual(out.after.addresses, out.before.addresses);
    assert.equal(out.export.nodesEmpty, true);
    assert.deepEqual(nodeShareFiles(tw), []);
    for (const c of ['alice', 'bob', 'carol']) {
      const old = await readShard(tw, c, shardFile(tw, c, key.keyId, 1));
      const next = await readShard(tw, c, shardFile(tw, c, key.keyId, 2));
      assert.equal(next.epoch, 2);
      assert.notEqual(next.share.secret, old.share.secret);
    }
    const msg = Buffer.from('after refresh');
    const signed = ok(await tw.kr(['sign', '--json', '--key', key.keyId, '--signer', 'alice', '--signer', 'bob', '--message-hex', msg.toString('hex'), ...everyone(tw)]), 'sign');
    assert.ok(verifiesEd25519(key.publicKey, msg, signed.signature));
    ok(await tw.kr(['audit', 'verify', '--json']), 'audit verify');
  });

  test('an old-epoch shard is refused', async () => {
    const r = await tw.kr(['sign', '--json', '--key', key.keyId, '--signer', 'alice', '--signer', 'bob', '--message-hex', '00', '--shard', `alice=${shardFile(tw, 'alice', key.keyId, 1)}`, ...everyone(tw)]);
    refused(r, 1, r.json?.error?.code ?? 'SHARE_WRONG_EPOCH');
  });
});
