import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { schnorr } from '@noble/curves/secp256k1.js';
import { loadState } from '../../src/audit/state.js';
import { sha256Hex } from '../../src/base/canonical.js';
import { unlockIdentity } from '../../src/custody/identity.js';
import { sessionIdOf, type SessionParams } from '../../src/engine/index.js';
import { Workspace } from '../../src/fs/workspace.js';
import { SigningNode } from '../../src/node/node.js';
import { sealForNode, signRequest, type SignRequest } from '../../src/node/request.js';
import { member } from '../../src/state/roster.js';
import { approvalRefusals, approveFile, consumedApprovals, refusedUnchanged, requestPath, withFiles } from '../support/approvals.js';
import { snapshot } from '../support/cli.js';
import { independentVerify } from '../support/engine.js';
import { everyone, keygen, lifecycleWorkspace, nodeShareFiles, readShard, shardFile, steps } from '../support/lifecycle.js';
import { nodeDraft, signStart } from '../support/node.js';
import { ok, readJsonFile, type TestWorkspace } from '../support/workspace.js';

// keyrite reshare through the CLI (CEREMONY.md, "Resharing a key"): the approval refusal table
// and the refusals of an impossible new set (too few dealers, a dealer who holds no party, a
// threshold of 1 or above the holders, a holder not in the roster or named twice, more holders
// than nodes), each with nothing changed on disk; carol leaves (3 → 2 holders) from approval
// files, and her old shard is refused by `sign` and by the node; she comes back (2 → 3), and a
// BIP-340 signature verifies with noble; an ed25519 key moves to 3-of-3 and its signature
// verifies with OpenSSL (node:crypto). The public key and addresses never move; the epoch does.

let tw: TestWorkspace;
let key: any; // bip340
let ed: any; // ed25519
let left: any; // the --json of carol leaving

const reshare = (keyId: string, custodians: string, more: string[]) => tw.kr(['reshare', '--json', '--key', keyId, '--custodians', custodians, ...more, ...everyone(tw)]);
const requestOut = (keyId: string, custodians: string, more: string[], file: string) =>
  tw.kr(['reshare', '--json', '--key', keyId, '--custodians', custodians, ...more, '--request-out', file, '--expires', '2h']);
const sharesOf = (keyId: string): string[] => nodeShareFiles(tw).filter((f) => f.includes(keyId));

before(async () => {
  tw = await lifecycleWorkspace();
  key = await keygen(tw, 'bip340');
  ed = await keygen(tw, 'ed25519');
});

describe('keyrite reshare', { concurrency: 1 }, () => {
  describe('approvals (a re-deal to alice, bob and carol, 2-of-3; the key stays at epoch 1)', { concurrency: 1 }, () => {
    const act = ['--threshold', '2'];
    approvalRefusals({
      tw: () => tw,
      key: () => key.keyId,
      run: (approval) => reshare(key.keyId, 'alice,bob,carol', [...act, ...approval]),
      requestOut: (file) => requestOut(key.keyId, 'alice,bob,carol', act, file),
      swapped: async () => {
        const [others, higher, otherKey] = [requestPath(tw), requestPath(tw), requestPath(tw)];
        ok(await requestOut(key.keyId, 'alice,bob', act, others));
        ok(await requestOut(key.keyId, 'alice,bob,carol', ['--threshold', '3'], higher));
        ok(await requestOut(ed.keyId, 'alice,bob,carol', act, otherKey));
        return [
          { what: 'another custodian set', request: others, mentions: ['sets custodians to ["alice","bob"]', '["alice","bob","carol"]'] },
          { what: 'another threshold', request: higher, mentions: ['sets threshold to 3', 'the act has 2'] },
          { what: 'another key', request: otherKey, mentions: [`target ${ed.keyId}`, `not ${key.keyId}`] },
        ];
      },
    });
  });

  describe('an impossible new set is refused before anyone unlocks', { concurrency: 1 }, () => {
    const room = ['--approvers', 'alice,bob'];
    const refusedHere = (custodians: string, more: string[], code: string, mentions: string[], exit = 1) =>
      refusedUnchanged(tw, () => reshare(key.keyId, custodians, [...more, ...room]), code, mentions, exit);

    test('too few dealers', async () => {
      await refusedHere('alice,bob,carol', ['--dealers', 'bob'], 'BAD_DEALERS', [key.keyId, 'needs 2', '1 named (bob)']);
    });

    test('a dealer who holds no party', async () => {
      await refusedHere('alice,bob,carol', ['--dealers', `bob,${tw.witness}`], 'BAD_DEALERS', [`${tw.witness} holds no party`, 'alice, bob, carol']);
    });

    test('a threshold of 1, or above the number of new holders (exit 2)', async () => {
      await refusedHere('alice,bob,carol', ['--threshold', '1'], 'BAD_POLICY', ['from 2', '1-of-3'], 2);
      await refusedHere('alice,bob', ['--threshold', '3'], 'BAD_POLICY', ['from 2', '3-of-2'], 2);
    });

    test('a new holder not in the roster, or not a custodian', async () => {
      await refusedHere('alice,bob,dave', [], 'NOT_ENROLLED', ['dave', 'not enrolled']);
      await refusedHere(`alice,bob,${tw.witness}`, [], 'WRONG_ROLE', [tw.witness, 'not custodian']);
    });

    test('a holder or a dealer named twice (exit 2)', async () => {
      await refusedHere('alice,alice,bob', [], 'USAGE', ['alice,alice,bob', 'twice'], 2);
      await refusedHere('alice,bob,carol', ['--dealers', 'bob,bob'], 'USAGE', ['bob,bob', 'twice'], 2);
    });

    test('more holders than signing nodes (exit 2)', async () => {
      await refusedHere('alice,bob,carol,dave', ['--threshold', '2'], 'BAD_POLICY', ['4 new holders', 'only 3 signing nodes'], 2);
    });
  });

  test('carol leaves, from approval files: alice and bob hold the key 2-of-2 at epoch 2, same public key and addresses, every node empty', async () => {
    const file = requestPath(tw);
    const before = snapshot(tw.root);
    const req = ok(await requestOut(key.keyId, 'alice,bob', ['--threshold', '2', '--dealers', 'bob,carol'], file));
    const files = await approveFile(tw, file, ['alice', 'carol']);
    assert.deepEqual(snapshot(tw.root), before, 'writing the request and approving it records nothing');
    assert.deepEqual(readJsonFile(file).parameters, { epoch: 1, custodians: ['alice', 'bob'], threshold: 2 });
    const out = ok(await reshare(key.keyId, 'alice,bob', ['--threshold', '2', '--dealers', 'bob,carol', ...withFiles(files)]), 'reshare');
    left = out;
    assert.equal(out.request, req.digest);
    assert.deepEqual([out.epochBefore, out.epoch, out.threshold], [1, 2, 2]);
    assert.equal(out.after.publicKey, key.publicKey);
    assert.deepEqual(out.after.addresses, key.addresses);
    assert.deepEqual(out.custodians, ['alice', 'bob']);
    assert.deepEqual(out.dealers, ['bob', 'carol']);
    assert.equal(out.export.nodesEmpty, true);
    assert.deepEqual(sharesOf(key.keyId), []);
    const shard = await readShard(tw, 'alice', shardFile(tw, 'alice', key.keyId, 2));
    assert.deepEqual(shard.share.parties, ['node-1', 'node-2']);
    const recorded = steps(tw, out.ceremony);
    assert.deepEqual(recorded.filter((e) => e.step === 'reshare.request').map((e) => e.actor), ['bob', 'carol'], 'each dealer hands in their share under their own request');
    assert.deepEqual(recorded.filter((e) => e.step === 'reshare.share').map((e) => e.actor).sort(), ['node-1', 'node-2'], 'each new holder\'s node signs the share it keeps');
    assert.deepEqual(recorded.filter((e) => e.step === 'node.attest').map((e) => e.actor).at(-1), 'node-3', 'the node that only dealt attests it holds nothing');
    const shown = ok(await tw.kr(['key', 'show', '--json', '--key', key.keyId]));
    assert.deepEqual([shown.key.epoch, shown.key.publicKey], [2, key.publicKey]);
    assert.deepEqual(shown.key.addresses, key.addresses);
  });

  test('the consumed approvals do not reshare again', async () => {
    await refusedUnchanged(tw, () => reshare(key.keyId, 'alice,bob', ['--threshold', '2', ...withFiles(consumedApprovals(tw, left.ceremony))]), 'APPROVAL_USED', ['already consumed']);
  });

  test('carol, who left, is no dealer now', async () => {
    await refusedUnchanged(tw, () => reshare(key.keyId, 'alice,bob,carol', ['--dealers', 'alice,carol', '--approvers', 'alice,bob']), 'BAD_DEALERS', ['carol holds no party', 'alice, bob']);
  });

  test('the leaver\'s old shard is refused by sign, and by the node it is handed to', async () => {
    const old = shardFile(tw, 'carol', key.keyId, 1);
    const signArgs = (more: string[]) => ['sign', '--json', '--key', key.keyId, '--signer', 'alice', '--signer', 'carol', '--message-hex', '07'.repeat(32), ...more, ...everyone(tw)];
    await refusedUnchanged(tw, () => tw.kr(signArgs([])), 'NOT_A_HOLDER', ['carol', 'holds no party', key.keyId]);
    await refusedUnchanged(tw, () => tw.kr(signArgs(['--shard', `carol=${old}`])), 'NOT_A_HOLDER', ['carol', key.keyId]);
    const stay = shardFile(tw, 'alice', key.keyId, 1);
    await refusedUnchanged(tw, () => tw.kr(['sign', '--json', '--key', key.keyId, '--signer', 'alice', '--signer', 'bob', '--message-hex', '07'.repeat(32), '--shard', `alice=${stay}`, ...everyone(tw)]), 'WRONG_EPOCH', [stay, 'epoch 1', 'epoch 2']);
    // By hand, as if the coordinator were carol's accomplice: node-3 runs no party of the key now.
    const ws = new Workspace(tw.root);
    const state = await loadState(ws);
    const carol = await unlockIdentity(readFileSync(tw.identityFile('carol')), tw.passphrases.carol!, 'carol');
    const share = (await readShard(tw, 'carol', old)).share;
    const node = await SigningNode.open(ws, 'node-3');
    const message = Buffer.alloc(32, 7);
    for (const epoch of [1, 2]) {
      const s: SessionParams = { engine: 'bip340', keyId: key.keyId, epoch, participants: ['node-1', 'node-3'], t: 2, n: 3, ceremonyId: `c-leaver-${epoch}`, rosterDigest: state.rosterDigest };
      const request: SignRequest = { v: 1, keyId: key.keyId, epoch, messageDigest: sha256Hex(message), signers: ['alice', 'carol'], sessionId: sessionIdOf(s) };
      await assert.rejects(
        signStart(node, { session: s, request: signRequest('carol', carol.signing, request), share: await sealForNode(member(state.requireRoster(), 'node-3', 'node').recipient, share), message: message.toString('hex') }),
        (e: any) => e.code === 'NOT_A_HOLDER' && e.message.includes('node-3') && e.message.includes(key.keyId),
      );
    }
    assert.deepEqual((await node.attest(nodeDraft(state))).holds.filter((h) => h.keyId === key.keyId), []);
  });

  test('carol comes back: 2-of-3 at epoch 3, and alice and carol sign a BIP-340 signature noble verifies', async () => {
    const out = ok(await reshare(key.keyId, 'alice,bob,carol', ['--approvers', 'alice,bob']), 'reshare back');
    assert.deepEqual([out.epochBefore, out.epoch, out.threshold], [2, 3, 2]);
    assert.equal(out.after.publicKey, key.publicKey);
    assert.deepEqual(out.after.addresses, key.addresses);
    assert.deepEqual(out.dealers, ['alice', 'bob'], 'by default the first t holders deal');
    const msg = Buffer.alloc(32, 7);
    const signed = ok(await tw.kr(['sign', '--json', '--key', key.keyId, '--signer', 'alice', '--signer', 'carol', '--message-hex', msg.toString('hex'), ...everyone(tw)]), 'sign');
    assert.ok(schnorr.verify(Buffer.from(signed.signature, 'hex'), msg, Buffer.from(key.publicKey, 'hex')));
    assert.ok(!schnorr.verify(Buffer.from(signed.signature, 'hex'), Buffer.alloc(32, 8), Buffer.from(key.publicKey, 'hex')));
  });

  test('an ed25519 key moves to 3-of-3: same public key and addresses, and all three sign a signature OpenSSL verifies', async () => {
    const out = ok(await reshare(ed.keyId, 'alice,bob,carol', ['--threshold', '3', '--dealers', 'carol,alice', '--approvers', 'bob,carol']), 'reshare ed25519');
    assert.deepEqual([out.epoch, out.threshold], [2, 3]);
    assert.equal(out.after.publicKey, ed.publicKey);
    assert.deepEqual(out.after.addresses, ed.addresses);
    assert.deepEqual(sharesOf(ed.keyId), []);
    const msg = Buffer.from('three of three after reshare');
    const two = ['sign', '--json', '--key', ed.keyId, '--signer', 'alice', '--signer', 'bob', '--message-hex', msg.toString('hex'), ...everyone(tw)];
    await refusedUnchanged(tw, () => tw.kr(two), 'TOO_FEW_SIGNERS', ['needs 3 of its 3 custodians', '2 given']);
    const signed = ok(await tw.kr(['sign', '--json', '--key', ed.keyId, '--signer', 'alice', '--signer', 'bob', '--signer', 'carol', '--message-hex', msg.toString('hex'), ...everyone(tw)]), 'sign 3-of-3');
    assert.ok(independentVerify('ed25519', ed.publicKey, msg, signed.signature), 'OpenSSL verifies it');
    ok(await tw.kr(['audit', 'verify', '--json']), 'audit verify');
  });
});
