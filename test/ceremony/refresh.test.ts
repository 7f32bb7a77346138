import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { loadState } from '../../src/audit/state.js';
import { sha256Hex } from '../../src/base/canonical.js';
import { unlockIdentity, type Identity } from '../../src/custody/identity.js';
import type { ShardPayload } from '../../src/custody/shard.js';
import { sessionIdOf, type SessionParams, type Share } from '../../src/engine/index.js';
import { Workspace } from '../../src/fs/workspace.js';
import { SigningNode } from '../../src/node/node.js';
import { sealForNode, signRequest, type RenewalRequest, type SignRequest } from '../../src/node/request.js';
import type { CustodyState } from '../../src/state/fold.js';
import { member } from '../../src/state/roster.js';
import { approvalRefusals, approveFile, consumedApprovals, refusedUnchanged, requestPath, withFiles } from '../support/approvals.js';
import { snapshot } from '../support/cli.js';
import { identities, independentVerify, runSign } from '../support/engine.js';
import { CUSTODIANS, everyone, keygen, lifecycleWorkspace, nodeShareFiles, readShard, shardFile, steps } from '../support/lifecycle.js';
import { nodeDraft, signStart } from '../support/node.js';
import { nodesArg, serve, type Served } from '../support/serve.js';
import { ok, readJsonFile, type TestWorkspace } from '../support/workspace.js';

// keyrite refresh through the CLI (CEREMONY.md, "Refreshing a key"): the approval refusal table;
// refusals of a custodian who cannot open their identity, a node that still holds its share, a
// retired key, each with nothing changed on disk; the refresh itself from approval files —
// every share renewed, the same public key and addresses at the next epoch, the new shards
// receipted and the nodes empty; afterwards an old-epoch shard is refused by `sign` and by the
// node itself, and old and new shares never sign together; an ecdsa key refreshed on real
// `keyrite node serve` processes, whose signature noble's secp256k1 verifies.

let tw: TestWorkspace;
let key: any; // ed25519, exported and deleted: the key refreshed
let held: string; // ed25519, its nodes still hold their shares: refused, then retired
let stale = ''; // a request for refreshing `key` at epoch 1, approved and never used
let refreshed: any; // the refresh's --json

const refresh = (keyId: string, more: string[]) => tw.kr(['refresh', '--json', '--key', keyId, ...more, ...everyone(tw)]);
const requestOut = (keyId: string, file: string) => tw.kr(['refresh', '--json', '--key', keyId, '--request-out', file, '--expires', '2h']);
/** What the nodes store of `keyId`: the retired key `held` keeps its shares on the nodes, so the nodes are never empty as a whole. */
const sharesOf = (keyId: string): string[] => nodeShareFiles(tw).filter((f) => f.includes(keyId));
const holdsOf = (holds: { keyId: string }[]) => holds.filter((h) => h.keyId === key.keyId);
const signArgs = (keyId: string, msg: Buffer, more: string[] = []) => ['sign', '--json', '--key', keyId, '--signer', 'alice', '--signer', 'bob', '--message-hex', msg.toString('hex'), ...more, ...everyone(tw)];

before(async () => {
  tw = await lifecycleWorkspace();
  key = await keygen(tw, 'ed25519');
  held = ok(await tw.kr(['keygen', '--json', '--engine', 'ed25519', '--custodians', CUSTODIANS.join(','), '--label', 'held-by-nodes', ...everyone(tw)]), 'keygen held').keyId;
});

describe('keyrite refresh', { concurrency: 1 }, () => {
  describe('approvals (the key stays at epoch 1)', { concurrency: 1 }, () => {
    approvalRefusals({
      tw: () => tw,
      key: () => key.keyId,
      run: (approval) => refresh(key.keyId, approval),
      requestOut: (file) => requestOut(key.keyId, file),
      swapped: async () => {
        const other = requestPath(tw);
        ok(await requestOut(held, other));
        const retire = requestPath(tw);
        ok(await tw.kr(['key', 'retire', '--json', '--key', key.keyId, '--request-out', retire]));
        return [
          { what: 'another key', request: other, mentions: [`target ${held}`, `not ${key.keyId}`] },
          { what: 'another act on this key', request: retire, mentions: ['is for key-retire, not refresh'] },
        ];
      },
    });
  });

  describe('refusals before anything is recorded', { concurrency: 1 }, () => {
    const room = ['--approvers', 'bob,carol'];
    const others = (name: string) => tw.passArgs(tw.generator, tw.witness, ...CUSTODIANS.filter((c) => c !== name));

    test('a custodian whose identity file is missing, or whose passphrase is wrong', async () => {
      const missing = `${tw.base}/nowhere/alice.identity.age`;
      await refusedUnchanged(tw, () => refresh(key.keyId, [...room, '--identity', `alice=${missing}`]), 'NOT_FOUND', [missing]);
      const wrong = tw.extraPassphrase('alice', 'wrong', 'not alice at all');
      const r = () => tw.kr(['refresh', '--json', '--key', key.keyId, ...room, '--passphrase-file', `alice=${wrong}`, ...others('alice')]);
      await refusedUnchanged(tw, r, 'WRONG_PASSPHRASE', ['alice']);
    });

    test('a key whose nodes still hold their shares (keygen without --delete-after-export), naming the node', async () => {
      const out = await refusedUnchanged(tw, () => refresh(held, room), 'NODE_NOT_EMPTY', ['node-1', held]);
      assert.equal(out.error.code, 'NODE_NOT_EMPTY');
    });

    test('a retired key, for the refresh and for its request', async () => {
      ok(await tw.kr(['key', 'retire', '--json', '--key', held, ...room, ...everyone(tw)]), 'retire');
      await refusedUnchanged(tw, () => refresh(held, room), 'KEY_NOT_ACTIVE', [held, 'retired']);
      await refusedUnchanged(tw, () => requestOut(held, requestPath(tw)), 'KEY_NOT_ACTIVE', [held, 'retired']);
    });
  });

  test('from approval files: --request-out records nothing; then every share renewed, same public key and addresses, epoch 2, receipted, nodes empty', async () => {
    stale = requestPath(tw);
    ok(await requestOut(key.keyId, stale));
    const staleFiles = await approveFile(tw, stale, ['alice', 'carol']);
    const file = requestPath(tw);
    const before = snapshot(tw.root);
    const req = ok(await requestOut(key.keyId, file));
    const files = await approveFile(tw, file, ['bob', 'carol']);
    assert.deepEqual(snapshot(tw.root), before, 'writing the request and approving it on the approvers\' devices records nothing');
    assert.deepEqual(readJsonFile(file).parameters, { epoch: 1 });
    const out = ok(await refresh(key.keyId, withFiles(files)), 'refresh');
    refreshed = out;
    assert.equal(out.request, req.digest);
    assert.deepEqual(out.approvers, ['bob', 'carol']);
    assert.deepEqual([out.epochBefore, out.epoch], [1, 2]);
    assert.equal(out.before.publicKey, key.publicKey);
    assert.equal(out.after.publicKey, key.publicKey);
    assert.deepEqual(out.after.addresses, out.before.addresses);
    assert.equal(out.export.nodesEmpty, true);
    assert.deepEqual(sharesOf(key.keyId), []);
    for (const c of CUSTODIANS) {
      const old = await readShard(tw, c, shardFile(tw, c, key.keyId, 1));
      const next = await readShard(tw, c, shardFile(tw, c, key.keyId, 2));
      assert.equal(next.epoch, 2);
      assert.notEqual(next.share.secret, old.share.secret);
    }
    const recorded = steps(tw, out.ceremony).map((e) => e.step).filter((s) => s !== 'checklist.confirm');
    const at = (s: string) => recorded.indexOf(s);
    assert.deepEqual(recorded.filter((s) => s.startsWith('refresh.')), ['refresh.intent', ...CUSTODIANS.map(() => 'refresh.request'), 'refresh.share', 'refresh.share', 'refresh.share', 'refresh.result']);
    assert.ok(at('approval') < at('refresh.intent') && at('refresh.result') < at('export.intent'), recorded.join(', '));
    assert.deepEqual(steps(tw, out.ceremony).filter((e) => e.step === 'refresh.share').map((e) => e.actor), ['node-1', 'node-2', 'node-3'], 'each node signs the share it keeps');
    assert.equal(steps(tw, out.ceremony).at(-1)!.signatures, 2, 'the witness co-signs the seal');
    const msg = Buffer.from('after refresh');
    const signed = ok(await tw.kr(signArgs(key.keyId, msg)), 'sign');
    assert.ok(independentVerify('ed25519', key.publicKey, msg, signed.signature), 'OpenSSL verifies the signature of the new shares');
    ok(await tw.kr(['audit', 'verify', '--json']), 'audit verify');
    // The epoch-1 request, approved but never used, no longer describes the key.
    await refusedUnchanged(tw, () => refresh(key.keyId, withFiles(staleFiles)), 'WRONG_REQUEST', ['epoch', '1', '2']);
  });

  test('the consumed approvals do not refresh the key again', async () => {
    await refusedUnchanged(tw, () => refresh(key.keyId, withFiles(consumedApprovals(tw, refreshed.ceremony))), 'APPROVAL_USED', ['bob', 'already consumed']);
  });

  describe('after the refresh, epoch 1 is dead', { concurrency: 1 }, () => {
    test('sign refuses an old-epoch shard, alone or beside a new one, and gives no signature', async () => {
      const old = shardFile(tw, 'alice', key.keyId, 1);
      for (const more of [['--shard', `alice=${old}`], ['--shard', `alice=${old}`, '--shard', `bob=${shardFile(tw, 'bob', key.keyId, 2)}`]]) {
        const out = await refusedUnchanged(tw, () => tw.kr(signArgs(key.keyId, Buffer.from('old'), more)), 'WRONG_EPOCH', [old, 'epoch 1', 'epoch 2']);
        assert.equal(out.signature, undefined);
      }
      const bothOld = ['--shard', `alice=${old}`, '--shard', `bob=${shardFile(tw, 'bob', key.keyId, 1)}`];
      await refusedUnchanged(tw, () => tw.kr(signArgs(key.keyId, Buffer.from('old'), bothOld)), 'WRONG_EPOCH', ['epoch 1']);
    });

    describe('a node refuses an old-epoch share handed to it', { concurrency: 1 }, () => {
      let ws: Workspace;
      let state: CustodyState;
      let alice: Identity;
      let oldShard: ShardPayload;
      const message = Buffer.from('m');

      before(async () => {
        ws = new Workspace(tw.root);
        state = await loadState(ws);
        alice = await unlockIdentity(readFileSync(tw.identityFile('alice')), tw.passphrases.alice!, 'alice');
        oldShard = await readShard(tw, 'alice', shardFile(tw, 'alice', key.keyId, 1));
      });
      const session = (epoch: number, ceremonyId: string, participants = ['node-1', 'node-2']): SessionParams => ({
        engine: 'ed25519', keyId: key.keyId, epoch, participants, t: 2, n: 3, ceremonyId, rosterDigest: state.rosterDigest,
      });
      const sealed = (share: Share) => sealForNode(member(state.requireRoster(), 'node-1', 'node').recipient, share);
      async function signWith(s: SessionParams, share: Share): Promise<unknown> {
        const node = await SigningNode.open(ws, 'node-1');
        const request: SignRequest = { v: 1, keyId: key.keyId, epoch: s.epoch, messageDigest: sha256Hex(message), signers: ['alice', 'bob'], sessionId: sessionIdOf(s) };
        try {
          return await signStart(node, { session: s, request: signRequest('alice', alice.signing, request), share: await sealed(share), message: message.toString('hex') });
        } finally {
          assert.deepEqual(holdsOf((await node.attest(nodeDraft(state))).holds), [], 'the node keeps nothing of the key from a refused start');
        }
      }
      const refusedBy = (code: string, words: string[]) => (e: any) => e.code === code && e.node === 'node-1' && ['node-1', ...words].every((w) => e.message.includes(w));

      test('to sign, in a session of the old epoch or of the new one', async () => {
        await assert.rejects(signWith(session(1, 'c-old-epoch'), oldShard.share), refusedBy('REQUEST_REFUSED', ['epoch 1', 'the key is at epoch 2']));
        await assert.rejects(signWith(session(2, 'c-old-share'), oldShard.share), refusedBy('REQUEST_REFUSED', ['the share is from epoch 1']));
      });

      test('relabelled as a share of the new epoch', async () => {
        await assert.rejects(signWith(session(2, 'c-relabelled'), { ...oldShard.share, epoch: 2 }), refusedBy('WRONG_KEY', [key.keyId, 'another key or epoch']));
      });

      test('to refresh again from the old epoch', async () => {
        const node = await SigningNode.open(ws, 'node-1');
        const s = session(1, 'c-refresh-old', ['node-1', 'node-2', 'node-3']);
        const request: RenewalRequest = { v: 1, op: 'refresh', keyId: key.keyId, epoch: 1, sessionId: sessionIdOf(s) };
        await assert.rejects(
          node.start('refresh', s, { request: signRequest('alice', alice.signing, request), share: await sealed(oldShard.share) }),
          refusedBy('WRONG_EPOCH', ['epoch 2', 'the refresh session is for epoch 1']),
        );
        assert.deepEqual(holdsOf((await node.attest(nodeDraft(state))).holds), []);
      });
    });

    test('one old-epoch share and one new one never make a signature, even run by hand outside any node', async () => {
      const oldAlice = (await readShard(tw, 'alice', shardFile(tw, 'alice', key.keyId, 1))).share;
      const newBob = (await readShard(tw, 'bob', shardFile(tw, 'bob', key.keyId, 2))).share;
      const ids = await identities(['node-1', 'node-2', 'node-3']);
      const message = Buffer.from('old and new');
      // Relabelled to the new epoch, the old share's public data is not the new one, so the new share is judged against the wrong verifying share.
      await assert.rejects(runSign([{ ...oldAlice, epoch: 2 }, newBob], message, ids), (e: any) => e.code === 'PROTOCOL_INVALID_SIGNATURE_SHARE' && e.message.includes('node-2'));
      await assert.rejects(runSign([oldAlice, newBob], message, ids), (e: any) => e.code === 'SHARE_WRONG_EPOCH' && e.message.includes('epoch 2') && e.message.includes('epoch 1'));
      // Control: the two new shares do sign.
      const newAlice = (await readShard(tw, 'alice', shardFile(tw, 'alice', key.keyId, 2))).share;
      assert.ok(independentVerify('ed25519', key.publicKey, message, await runSign([newAlice, newBob], message, ids)));
    });
  });

  describe('an ecdsa key on real `keyrite node serve` processes', { concurrency: 1 }, () => {
    const servers: Served[] = [];
    let nodes: string;
    let ecdsa: any;

    before(async () => {
      for (const id of ['node-1', 'node-2', 'node-3']) servers.push(await serve(tw.root, id));
      nodes = nodesArg(servers);
      ecdsa = ok(await tw.kr(['keygen', '--json', '--engine', 'ecdsa', '--custodians', CUSTODIANS.join(','), '--label', 'eth-refresh', '--export', '--delete-after-export', '--nodes', nodes, ...everyone(tw)]), 'keygen ecdsa');
    });
    after(() => {
      for (const s of servers) s.child.kill('SIGTERM');
    });

    test('is refreshed over HTTP: same public key and addresses, epoch 2, nodes empty; its signature verifies with noble secp256k1', async () => {
      const out = ok(await refresh(ecdsa.keyId, ['--approvers', 'alice,carol', '--nodes', nodes]), 'refresh ecdsa');
      assert.deepEqual([out.epochBefore, out.epoch], [1, 2]);
      assert.equal(out.after.publicKey, ecdsa.publicKey);
      assert.deepEqual(out.after.addresses, out.before.addresses);
      assert.equal(out.export.nodesEmpty, true);
      assert.deepEqual(sharesOf(ecdsa.keyId), []);
      const digest = Buffer.from(sha256Hex('an ecdsa digest after refresh'), 'hex');
      const r = ok(await tw.kr(['sign', '--json', '--key', ecdsa.keyId, '--signer', 'bob', '--signer', 'carol', '--message-hex', digest.toString('hex'), '--nodes', nodes, ...everyone(tw)]), 'sign ecdsa');
      const sig = Buffer.from(r.r + r.s, 'hex');
      assert.ok(secp256k1.verify(sig, digest, Buffer.from(ecdsa.publicKey, 'hex'), { prehash: false, lowS: true }), 'noble verifies the signature under the unchanged key');
      assert.ok(!secp256k1.verify(sig, Buffer.alloc(32, 1), Buffer.from(ecdsa.publicKey, 'hex'), { prehash: false, lowS: true }));
      await refusedUnchanged(
        tw,
        () => tw.kr(['sign', '--json', '--key', ecdsa.keyId, '--signer', 'bob', '--signer', 'carol', '--message-hex', digest.toString('hex'), '--nodes', nodes, '--shard', `bob=${shardFile(tw, 'bob', ecdsa.keyId, 1)}`, ...everyone(tw)]),
        'WRONG_EPOCH',
        ['epoch 1'],
      );
      ok(await tw.kr(['audit', 'verify', '--json']), 'audit verify');
    });
  });
});
