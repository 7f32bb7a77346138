import assert from 'node:assert/strict';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { ShardPayload } from '../../src/custody/shard.js';
import { approvalRefusals, approveFile, consumedApprovals, refusedUnchanged, requestPath, withFiles } from '../support/approvals.js';
import { snapshot } from '../support/cli.js';
import { independentVerify } from '../support/engine.js';
import { CUSTODIANS, everyone, keygen, lifecycleWorkspace, nodeShareFiles, readShard, shardFile, steps } from '../support/lifecycle.js';
import { ok, readJsonFile, type TestWorkspace } from '../support/workspace.js';

// keyrite repair through the CLI (CEREMONY.md, "Repairing a lost shard"): the refusals of an
// ecdsa key (replaced by reshare instead), a shard that is not lost, too few helpers, the
// custodian as their own helper, a helper or custodian who holds no party; alice then loses her
// shard, and the approval refusal table runs on her repair; bob and carol rebuild the very same
// share from approval files, the epoch and every other share unchanged, the nodes end empty,
// alice signs again and OpenSSL verifies it, and audit verify passes. The repair-share.json
// vectors of the reference implementation are checked in test/engine/repair.test.ts.

let tw: TestWorkspace;
let key: any; // ed25519, exported and deleted
let ecdsa: string; // its nodes hold their shares; never repaired
let lost: ShardPayload; // alice's shard, before she lost it
let repaired: any; // the repair's --json

const repair = (keyId: string, custodian: string, helpers: string, more: string[]) => tw.kr(['repair', '--json', '--key', keyId, '--custodian', custodian, '--helpers', helpers, ...more, ...everyone(tw)]);
const requestOut = (keyId: string, custodian: string, helpers: string, file: string) =>
  tw.kr(['repair', '--json', '--key', keyId, '--custodian', custodian, '--helpers', helpers, '--request-out', file, '--expires', '2h']);
/** Moves alice's shard out of the workspace, as if her medium were lost. */
const loseAlicesShard = () => renameSync(shardFile(tw, 'alice', key.keyId), join(tw.freshDir('lost'), 'alice.shard.age'));

before(async () => {
  tw = await lifecycleWorkspace();
  key = await keygen(tw, 'ed25519');
  ecdsa = ok(await tw.kr(['keygen', '--json', '--engine', 'ecdsa', '--custodians', CUSTODIANS.join(','), '--label', 'eth-unrepairable', ...everyone(tw)]), 'keygen ecdsa').keyId;
  lost = await readShard(tw, 'alice', shardFile(tw, 'alice', key.keyId));
});

describe('keyrite repair', { concurrency: 1 }, () => {
  describe('refused before anyone unlocks', { concurrency: 1 }, () => {
    const room = ['--approvers', 'bob,carol'];

    test('an ecdsa key, for the repair and for its request: the message says to reshare', async () => {
      await refusedUnchanged(tw, () => repair(ecdsa, 'alice', 'bob,carol', room), 'UNKNOWN_ENGINE', [ecdsa, 'ecdsa', 'reshare']);
      await refusedUnchanged(tw, () => requestOut(ecdsa, 'alice', 'bob,carol', requestPath(tw)), 'UNKNOWN_ENGINE', [ecdsa, 'reshare']);
    });

    test('a shard that is not lost: the custodian\'s shard file is still there', async () => {
      const path = shardFile(tw, 'alice', key.keyId);
      await refusedUnchanged(tw, () => repair(key.keyId, 'alice', 'bob,carol', room), 'FILE_EXISTS', [path]);
    });

    test('too few helpers, or the custodian as their own helper', async () => {
      await refusedUnchanged(tw, () => repair(key.keyId, 'alice', 'bob', room), 'BAD_DEALERS', [key.keyId, 'needs 2 helpers', '1 named (bob)']);
      await refusedUnchanged(tw, () => repair(key.keyId, 'alice', 'alice,bob', room), 'BAD_DEALERS', ['alice lost their shard', 'cannot help']);
    });

    test('a helper, or a custodian to repair, who holds no party of the key', async () => {
      await refusedUnchanged(tw, () => repair(key.keyId, 'alice', `bob,${tw.witness}`, room), 'NOT_A_HOLDER', [`custodian ${tw.witness} holds no party`, key.keyId]);
      await refusedUnchanged(tw, () => repair(key.keyId, tw.witness, 'bob,carol', room), 'NOT_A_HOLDER', [`custodian ${tw.witness} holds no party`]);
    });
  });

  test('alice loses her shard', () => {
    loseAlicesShard();
    assert.ok(!existsSync(shardFile(tw, 'alice', key.keyId)));
  });

  describe('approvals (alice\'s shard stays lost)', { concurrency: 1 }, () => {
    approvalRefusals({
      tw: () => tw,
      key: () => key.keyId,
      run: (approval) => repair(key.keyId, 'alice', 'bob,carol', approval),
      requestOut: (file) => requestOut(key.keyId, 'alice', 'bob,carol', file),
      swapped: async () => {
        const [bobs, helpers] = [requestPath(tw), requestPath(tw)];
        ok(await requestOut(key.keyId, 'bob', 'alice,carol', bobs));
        ok(await requestOut(key.keyId, 'alice', 'carol,bob', helpers));
        return [
          { what: 'another custodian', request: bobs, mentions: ['sets custodian to "bob"', 'the act has alice'] },
          { what: 'other helpers', request: helpers, mentions: ['sets helpers to ["carol","bob"]'] },
        ];
      },
    });
  });

  test('bob and carol rebuild alice\'s share from approval files: the very same share and epoch, nodes empty; she signs again; audit verify passes', async () => {
    const file = requestPath(tw);
    const before = snapshot(tw.root);
    const req = ok(await requestOut(key.keyId, 'alice', 'bob,carol', file));
    const files = await approveFile(tw, file, ['bob', 'carol']);
    assert.deepEqual(snapshot(tw.root), before, 'writing the request and approving it records nothing');
    assert.deepEqual(readJsonFile(file).parameters, { epoch: 1, custodian: 'alice', helpers: ['bob', 'carol'] });
    const others = { bob: await readShard(tw, 'bob', shardFile(tw, 'bob', key.keyId)), carol: await readShard(tw, 'carol', shardFile(tw, 'carol', key.keyId)) };
    const out = ok(await repair(key.keyId, 'alice', 'bob,carol', withFiles(files)), 'repair');
    repaired = out;
    assert.equal(out.request, req.digest);
    assert.deepEqual([out.epoch, out.publicKey], [1, key.publicKey]);
    assert.deepEqual(out.addresses, key.addresses);
    assert.equal(out.export.nodesEmpty, true);
    assert.deepEqual(nodeShareFiles(tw).filter((f) => f.includes(key.keyId)), []);
    const after = await readShard(tw, 'alice', shardFile(tw, 'alice', key.keyId));
    assert.deepEqual(after.share, lost.share, 'the rebuilt share is the lost one, secret and public data');
    assert.equal(after.epoch, 1);
    for (const c of ['bob', 'carol'] as const) assert.deepEqual((await readShard(tw, c, shardFile(tw, c, key.keyId))).share, others[c].share, `${c}'s share did not change`);
    const recorded = steps(tw, out.ceremony);
    const order = recorded.map((e) => e.step).filter((s) => s.startsWith('repair.'));
    assert.deepEqual(order, ['repair.intent', 'repair.request', 'repair.request', 'repair.share', 'repair.result']);
    assert.deepEqual(recorded.filter((e) => e.step === 'repair.request').map((e) => e.actor), ['bob', 'carol']);
    assert.deepEqual(recorded.filter((e) => e.step === 'repair.share').map((e) => e.actor), ['node-1']);
    assert.deepEqual(recorded.filter((e) => e.step === 'node.attest').map((e) => e.actor).slice(-2), ['node-2', 'node-3'], 'the helpers\' nodes attest they hold nothing');
    assert.equal(recorded.at(-1)!.signatures, 2, 'the witness co-signs the seal');
    const msg = Buffer.from('after repair');
    const signed = ok(await tw.kr(['sign', '--json', '--key', key.keyId, '--signer', 'alice', '--signer', 'carol', '--message-hex', msg.toString('hex'), ...everyone(tw)]), 'sign');
    assert.ok(independentVerify('ed25519', key.publicKey, msg, signed.signature), 'OpenSSL verifies it');
    ok(await tw.kr(['audit', 'verify', '--json']), 'audit verify');
  });

  test('the consumed approvals do not repair again, even once the shard is lost again', async () => {
    loseAlicesShard();
    await refusedUnchanged(tw, () => repair(key.keyId, 'alice', 'bob,carol', withFiles(consumedApprovals(tw, repaired.ceremony))), 'APPROVAL_USED', ['already consumed']);
  });
});
