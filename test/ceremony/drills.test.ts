import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { loadState } from '../../src/audit/state.js';
import { sha256Hex } from '../../src/base/canonical.js';
import { unlockIdentity } from '../../src/custody/identity.js';
import { openShard, type ShardPayload } from '../../src/custody/shard.js';
import { sessionIdOf, type SessionParams, type Share } from '../../src/engine/index.js';
import { Workspace } from '../../src/fs/workspace.js';
import { SigningNode } from '../../src/node/node.js';
import { sealForNode, signRequest, type SignRequest } from '../../src/node/request.js';
import { member } from '../../src/state/roster.js';
import type { Run } from '../support/cli.js';
import { independentVerify } from '../support/engine.js';
import { keygen, nodeShareFiles, readShard, shardFile } from '../support/lifecycle.js';
import { signStart } from '../support/node.js';
import { finish, release, startRecovery } from '../support/recovery.js';
import { makeWorkspace, ok, refused, watch, type TestWorkspace } from '../support/workspace.js';

// The disaster drills (CEREMONY.md, "Disaster drills"), each played through the CLI from a
// workspace whose keys were exported and deleted from the nodes: a node compromised (refresh); a
// custodian's shard lost (repair, or reshare to the two others and back to three); a custodian
// leaving (reshare to a new custodian); a guardian's share lost (re-split, by rotation); a custodian's laptop
// lost (guardian recovery, then rotation); a custodian's passphrase exposed (rotation and
// refresh). Each ends with the public key unchanged, a fresh signature that node:crypto
// (ed25519) or noble's schnorr (bip340) verifies, `audit verify` passing, and the lost or
// exposed material shown useless where the drill says so — by keyrite, by the node, and by
// interpolating the shares in this test with noble's field and points alone. Where the runbook
// says old shards must still be destroyed, the test shows why: t old shards of one epoch still
// give the key. Every drill runs on its own copy of one workspace, built once.

let base: TestWorkspace; // custodians alice (g1-g3), bob, carol (j1-j3) and dave; 2 approvals; nodes node-1..3
let ed: any; // an ed25519 key of alice, bob and carol, 2-of-3
let tr: any; // a bip340 key of alice, bob and carol, 2-of-3

before(async () => {
  base = await makeWorkspace({
    guardians: { alice: ['g1', 'g2', 'g3'], carol: ['j1', 'j2', 'j3'] }, approvers: ['alice', 'bob', 'carol'], k: 2, m: 3,
    extra: [{ name: 'dave', role: 'custodian' }],
  });
  ed = await keygen(base, 'ed25519');
  tr = await keygen(base, 'bip340');
});

/** name → passphrase file, for the people whose passphrase changed in a drill. */
type Passes = Record<string, string>;
const pa = (tw: TestWorkspace, now: Passes, ...names: string[]): string[] => names.flatMap((n) => ['--passphrase-file', `${n}=${now[n] ?? tw.pass[n]}`]);
const firstLine = (file: string): string => readFileSync(file, 'utf8').split('\n')[0]!;

/** The ceremony's people: generator, witness, and those named. */
const room = (tw: TestWorkspace, now: Passes, ...names: string[]): string[] => pa(tw, now, tw.generator, tw.witness, ...names);

/** Signs a fresh message with `signers` and checks the signature with a verifier that shares no code with keyrite. */
async function signsIndependently(tw: TestWorkspace, key: any, signers: string[], now: Passes = {}, extra: string[] = []): Promise<void> {
  const msg = Buffer.from(`drill ${signers.join('+')} ${tw.runs.length}`.padEnd(32, '.').slice(0, 32));
  const out = ok(await sign(tw, key, signers, msg, now, extra), `sign by ${signers.join(', ')}`);
  assert.equal(out.publicKey, key.publicKey);
  assert.ok(independentVerify(key.engine, key.publicKey, msg, out.signature), `${key.engine} signature does not verify independently`);
}

function sign(tw: TestWorkspace, key: any, signers: string[], msg: Buffer, now: Passes = {}, extra: string[] = []): Promise<Run> {
  return tw.kr(['sign', '--json', '--key', key.keyId, ...signers.flatMap((s) => ['--signer', s]), '--message-hex', msg.toString('hex'), ...extra, ...room(tw, now, ...signers)]);
}

/** The key as the fold has it now: same public key and addresses as at keygen, at `epoch`. */
async function sameKey(tw: TestWorkspace, key: any, epoch: number): Promise<any> {
  const shown = ok(await tw.kr(['key', 'show', '--json', '--key', key.keyId]), 'key show').key;
  assert.equal(shown.publicKey, key.publicKey);
  assert.deepEqual(shown.addresses, key.addresses);
  assert.equal(shown.epoch, epoch);
  return shown;
}

async function audited(tw: TestWorkspace): Promise<void> {
  ok(await tw.kr(['audit', 'verify', '--json']), 'audit verify');
}

async function shardWith(identityFile: string, passFile: string, name: string, path: string): Promise<ShardPayload> {
  const id = await unlockIdentity(readFileSync(identityFile), firstLine(passFile), name);
  return openShard(readFileSync(path), id.ageIdentity, path);
}

/**
 * Whether `shares` give the key: Lagrange interpolation at zero of their secrets, each at its
 * FROST identifier (its 1-based place in its own share's holders), with noble's scalar field and
 * base point only — no keyrite code judges it. ed25519 compares the point; bip340 compares x(Q).
 */
function giveTheKey(engine: string, publicKey: string, shares: Share[]): boolean {
  const P = engine === 'ed25519' ? ed25519.Point : schnorr.Point;
  const Fn = P.Fn;
  const xs = shares.map((s) => BigInt(s.parties.indexOf(s.party) + 1));
  let secret = 0n;
  shares.forEach((s, i) => {
    let l = 1n;
    xs.forEach((xj, j) => {
      if (j !== i) l = Fn.mul(l, Fn.div(xj, Fn.sub(xj, xs[i]!)));
    });
    secret = Fn.add(secret, Fn.mul(l, Fn.fromBytes(Buffer.from(s.secret, 'hex'))));
  });
  const point = P.BASE.multiply(secret);
  return engine === 'ed25519' ? point.toHex() === publicKey : Buffer.from(point.toBytes(true)).subarray(1).toString('hex') === publicKey;
}

/**
 * node-1 is handed `share` for a signing run with bob at the key's epoch now, under alice's own
 * signed request: past keyrite's checks, straight to the node, which must refuse it.
 */
async function node1Refuses(tw: TestWorkspace, key: any, share: Share, code: string, mention: string): Promise<void> {
  const ws = new Workspace(tw.root);
  const state = await loadState(ws);
  const r = state.key(key.keyId);
  const message = Buffer.from('handed straight to node-1');
  const session: SessionParams = { engine: r.engine, keyId: r.keyId, epoch: r.epoch, participants: ['node-1', 'node-2'], t: 2, n: 3, ceremonyId: `drill-${code}`, rosterDigest: state.rosterDigest };
  const request: SignRequest = { v: 1, keyId: r.keyId, epoch: r.epoch, messageDigest: sha256Hex(message), signers: ['alice', 'bob'], sessionId: sessionIdOf(session) };
  const alice = await unlockIdentity(readFileSync(tw.identityFile('alice')), tw.passphrases.alice!, 'alice');
  const sealed = await sealForNode(member(state.requireRoster(), 'node-1', 'node').recipient, share);
  const node = await SigningNode.open(ws, 'node-1');
  await assert.rejects(
    signStart(node, { session, request: signRequest('alice', alice.signing, request), share: sealed, message: message.toString('hex') }),
    (e: any) => e.code === code && e.message.includes(mention),
  );
}

describe('disaster drills', { concurrency: 1 }, () => {
  test('a. node-1 is compromised: refresh under approval files; what node-1 saw of epoch 1 no longer signs with the new shards', async () => {
    const tw = base.clone();
    // What an intruder on node-1 could have taken: alice's share, handed to node-1 to sign at epoch 1.
    const stolen = (await readShard(tw, 'alice', shardFile(tw, 'alice', ed.keyId))).share;
    const bobOld = (await readShard(tw, 'bob', shardFile(tw, 'bob', ed.keyId))).share;
    // The request for the approvers' own devices, approved there, and the refresh with the files.
    const request = join(tw.freshDir('request'), 'refresh.request.json');
    const asked = ok(await tw.kr(['refresh', '--json', '--key', ed.keyId, '--request-out', request, '--expires', '24h']), 'refresh --request-out');
    assert.equal(asked.keyId, ed.keyId);
    const files: string[] = [];
    for (const a of ['bob', 'carol']) {
      const f = join(tw.freshDir(a), `${a}.approval.json`);
      const out = ok(await tw.kr(['approve', '--json', '--request', request, '--approver', a, '--out', f, ...pa(tw, {}, a)]), `approve by ${a}`);
      assert.deepEqual([out.digest, out.words], [asked.digest, asked.words], 'the approver is shown the digest the operator reads out');
      files.push('--approval', f);
    }
    const out = ok(await tw.kr(['refresh', '--json', '--key', ed.keyId, ...files, ...room(tw, {}, 'alice', 'bob', 'carol')]), 'refresh');
    assert.deepEqual([out.epochBefore, out.epoch, out.before.publicKey, out.after.publicKey], [1, 2, ed.publicKey, ed.publicKey]);
    assert.equal(out.request, asked.digest);
    assert.equal(out.export.nodesEmpty, true);
    assert.deepEqual(nodeShareFiles(tw), []);
    await sameKey(tw, ed, 2);

    // keyrite refuses alice's epoch-1 shard before any node sees it.
    const unchanged = watch(tw.root);
    refused(await sign(tw, ed, ['alice', 'bob'], Buffer.alloc(32, 1), {}, ['--shard', `alice=${shardFile(tw, 'alice', ed.keyId, 1)}`]), 1, 'WRONG_EPOCH', ['alice', 'epoch 1', 'epoch 2']);
    unchanged();
    // Nor does node-1 take it, even handed in directly: as it is, relabelled to epoch 2, or
    // grafted onto the epoch-2 public data.
    const aliceNew = (await readShard(tw, 'alice', shardFile(tw, 'alice', ed.keyId, 2))).share;
    await node1Refuses(tw, ed, stolen, 'REQUEST_REFUSED', 'from epoch 1');
    await node1Refuses(tw, ed, { ...stolen, epoch: 2 }, 'WRONG_KEY', 'another key or epoch');
    await node1Refuses(tw, ed, { ...aliceNew, secret: stolen.secret }, 'SHARE_INVALID', 'node-1');
    // And the share itself no longer fits: with bob's new share it gives some other key; only
    // two shares of one epoch give it — which is why the old shards are destroyed.
    const bobNew = (await readShard(tw, 'bob', shardFile(tw, 'bob', ed.keyId, 2))).share;
    assert.notEqual(aliceNew.secret, stolen.secret);
    assert.equal(giveTheKey('ed25519', ed.publicKey, [stolen, bobNew]), false, 'an epoch-1 share combines with an epoch-2 share');
    assert.equal(giveTheKey('ed25519', ed.publicKey, [aliceNew, bobNew]), true);
    assert.equal(giveTheKey('ed25519', ed.publicKey, [stolen, bobOld]), true, 'two shares of epoch 1 still give the key');

    await signsIndependently(tw, ed, ['alice', 'bob']);
    await audited(tw);
  });

  test('b. alice\'s shard is lost, found by nobody: repair gives her the same share back at the same epoch', async () => {
    const tw = base.clone();
    const path = shardFile(tw, 'alice', ed.keyId);
    const lost = join(tw.freshDir('lost'), 'alice.shard.age');
    copyFileSync(path, lost); // the copy that was lost
    const before = (await readShard(tw, 'alice', path)).share;
    rmSync(path);
    const out = ok(await tw.kr(['repair', '--json', '--key', ed.keyId, '--custodian', 'alice', '--helpers', 'bob,carol', '--approvers', 'bob,carol', ...room(tw, {}, 'alice', 'bob', 'carol')]), 'repair');
    assert.deepEqual([out.epoch, out.publicKey, out.custodian, out.export.nodesEmpty], [1, ed.publicKey, 'alice', true]);
    assert.deepEqual(nodeShareFiles(tw), []);
    const rebuilt = (await readShard(tw, 'alice', path)).share;
    assert.deepEqual(rebuilt, before, 'repair rebuilds the very same share');
    await sameKey(tw, ed, 1);
    await signsIndependently(tw, ed, ['alice', 'carol']);
    // Why repair is only for a shard nobody has: the lost file still signs, if it turns up.
    await signsIndependently(tw, ed, ['alice', 'bob'], {}, ['--shard', `alice=${lost}`]);
    await audited(tw);
  });

  test('b. carol\'s shard is lost, maybe to someone: reshare to alice and bob, then back to three; the lost shard no longer works', async () => {
    const tw = base.clone();
    const path = shardFile(tw, 'carol', tr.keyId);
    const lost = join(tw.freshDir('lost'), 'carol.shard.age');
    copyFileSync(path, lost);
    const carolOld = (await readShard(tw, 'carol', path)).share;
    const aliceOld = (await readShard(tw, 'alice', shardFile(tw, 'alice', tr.keyId))).share;
    rmSync(path);
    const reshare = (custodians: string, more: string[], people: string[]) =>
      tw.kr(['reshare', '--json', '--key', tr.keyId, '--custodians', custodians, ...more, '--approvers', 'alice,bob', ...room(tw, {}, ...people)]);
    const two = ok(await reshare('alice,bob', ['--threshold', '2', '--dealers', 'alice,bob'], ['alice', 'bob']), 'reshare to two');
    assert.deepEqual([two.epoch, two.threshold, two.custodians, two.after.publicKey, two.export.nodesEmpty], [2, 2, ['alice', 'bob'], tr.publicKey, true]);
    assert.deepEqual(two.after.addresses, tr.addresses);
    const three = ok(await reshare('alice,bob,carol', [], ['alice', 'bob', 'carol']), 'reshare back to three');
    assert.deepEqual([three.epoch, three.threshold, three.custodians, three.after.publicKey, three.export.nodesEmpty], [3, 2, ['alice', 'bob', 'carol'], tr.publicKey, true]);
    assert.deepEqual(nodeShareFiles(tw), []);
    await sameKey(tw, tr, 3);

    const unchanged = watch(tw.root);
    refused(await sign(tw, tr, ['alice', 'carol'], Buffer.alloc(32, 2), {}, ['--shard', `carol=${lost}`]), 1, 'WRONG_EPOCH', ['carol', 'epoch 1', 'epoch 3']);
    unchanged();
    const aliceNow = (await readShard(tw, 'alice', shardFile(tw, 'alice', tr.keyId, 3))).share;
    const carolNow = (await readShard(tw, 'carol', shardFile(tw, 'carol', tr.keyId, 3))).share;
    assert.equal(giveTheKey('bip340', tr.publicKey, [carolOld, aliceNow]), false, 'the lost share combines with a share of epoch 3');
    assert.equal(giveTheKey('bip340', tr.publicKey, [aliceNow, carolNow]), true);
    assert.equal(giveTheKey('bip340', tr.publicKey, [carolOld, aliceOld]), true, 'the lost share and one more epoch-1 shard still give the key');

    await signsIndependently(tw, tr, ['alice', 'carol']);
    await audited(tw);
  });

  test('c. carol leaves: alice and bob deal the key to alice, bob and dave; carol\'s shard no longer signs', async () => {
    const tw = base.clone();
    const carolOld = (await readShard(tw, 'carol', shardFile(tw, 'carol', tr.keyId))).share;
    const bobOld = (await readShard(tw, 'bob', shardFile(tw, 'bob', tr.keyId))).share;
    const out = ok(await tw.kr(['reshare', '--json', '--key', tr.keyId, '--custodians', 'alice,bob,dave', '--approvers', 'alice,bob', ...room(tw, {}, 'alice', 'bob', 'dave')]), 'reshare to dave');
    assert.deepEqual([out.epoch, out.threshold, out.custodians, out.dealers, out.after.publicKey, out.export.nodesEmpty], [2, 2, ['alice', 'bob', 'dave'], ['alice', 'bob'], tr.publicKey, true]);
    assert.deepEqual(nodeShareFiles(tw), []);
    const shown = await sameKey(tw, tr, 2);
    assert.deepEqual(shown.parties.map((p: any) => [p.node, p.custodian]), [['node-1', 'alice'], ['node-2', 'bob'], ['node-3', 'dave']]);
    const dave = ok(await tw.kr(['identity', 'show', '--json', '--name', 'dave']), 'identity show dave');
    assert.equal(shown.parties[2].fingerprint, dave.identity.fingerprint, 'dave\'s party pins his fingerprint');

    const unchanged = watch(tw.root);
    refused(await sign(tw, tr, ['bob', 'carol'], Buffer.alloc(32, 3)), 1, 'NOT_A_HOLDER', ['carol']);
    unchanged();
    const bobNow = (await readShard(tw, 'bob', shardFile(tw, 'bob', tr.keyId, 2))).share;
    assert.equal(giveTheKey('bip340', tr.publicKey, [carolOld, bobNow]), false, 'carol\'s old share combines with a share of epoch 2');
    assert.equal(giveTheKey('bip340', tr.publicKey, [carolOld, bobOld]), true, 'carol\'s old share and one more epoch-1 shard still give the key');

    await signsIndependently(tw, tr, ['bob', 'dave']);
    await audited(tw);
  });
  test('d. g1 loses their share of alice: the other two still open; the re-split is a rotation, and the lost share then rebuilds nothing keyrite uses', async () => {
    const tw = base.clone();
    const check = (g: string, more: string[] = []) => tw.kr(['guardian', 'check', '--json', '--guardian', g, '--custodian', 'alice', ...more, ...pa(tw, {}, g)]);
    const lost = join(tw.freshDir('lost-share'), 'g1.share.json');
    copyFileSync(tw.shareFile('g1', 'alice'), lost); // whoever finds it later
    rmSync(tw.shareFile('g1', 'alice'));
    refused(await check('g1'), 1, 'NOT_FOUND', ['g1', tw.shareFile('g1', 'alice')]);
    for (const g of ['g2', 'g3']) ok(await check(g), `guardian check ${g}`); // still k = 2: alice can be recovered
    // A second set of the same age key is not a command: custodian setup makes the first set only.
    const unchanged = watch(tw.root);
    const again = await tw.kr(['custodian', 'setup', '--json', '--custodian', 'alice', '--guardians', 'g1,g2,g3', '--threshold', '2', ...pa(tw, {}, 'alice')]);
    refused(again, 1, 'FILE_EXISTS', [tw.setFile('alice')]);
    unchanged();
    // The re-split: alice rotates, so a new age key is split into a new set among the same guardians.
    const rotated = tw.extraPassphrase('alice', 'rotated');
    const r = ok(await tw.kr(['rotate', '--json', '--custodian', 'alice', '--new-passphrase-file', rotated, '--approvers', 'bob,carol', ...room(tw, {}, 'alice', 'bob', 'carol')]), 'rotate');
    assert.deepEqual(r.guardians, ['g1', 'g2', 'g3']);
    for (const g of ['g1', 'g2', 'g3']) ok(await check(g), `guardian check ${g} in the new set`);
    const old = await check('g1', ['--share', `g1=${lost}`]);
    refused(old, 1, 'WRONG_SET', ['g1', 'retired', 'destroy it']);
    await sameKey(tw, ed, 1);
    await signsIndependently(tw, ed, ['alice', 'bob'], { alice: rotated });
    await audited(tw);
  });

  // e and f need `keyrite rotate` (CEREMONY.md, "Rotating a custodian's identity").

  test('e. alice\'s laptop is lost with her identity: guardian recovery, then rotation; the lost identity opens nothing keyrite uses', async () => {
    const tw = base.clone();
    const lost = join(tw.freshDir('lost'), 'alice.identity.age');
    copyFileSync(tw.identityFile('alice'), lost);
    rmSync(tw.identityFile('alice'));
    const recovering = tw.extraPassphrase('alice', 'recovering');
    const start = await startRecovery(tw, 'alice', recovering);
    const released: [string, string][] = [];
    for (const g of ['g1', 'g3']) released.push([g, await release(tw, g, 'alice', start)]);
    const out = tw.freshDir('recovered');
    ok(await finish(tw, 'alice', start.session, released, recovering, out), 'recover finish');
    const recovered = join(out, 'alice.identity.age');
    const viaRecovery = ['--identity', `alice=${recovered}`];
    // The rebuilt age key passed through the recovery laptop: her shards wait for the rotation.
    refused(await sign(tw, ed, ['alice', 'bob'], Buffer.alloc(32, 4), { alice: recovering }, viaRecovery), 1, 'ROTATION_REQUIRED', ['alice']);

    const rotated = tw.extraPassphrase('alice', 'rotated');
    const r = ok(await tw.kr(['rotate', '--json', '--custodian', 'alice', '--new-passphrase-file', rotated, '--approvers', 'bob,carol', ...viaRecovery, ...room(tw, { alice: recovering }, 'alice', 'bob', 'carol')]), 'rotate');
    assert.deepEqual(r.shards.map((x: any) => x.keyId).sort(), [ed.keyId, tr.keyId].sort());
    const now: Passes = { alice: rotated };

    const unchanged = watch(tw.root);
    refused(await sign(tw, ed, ['alice', 'bob'], Buffer.alloc(32, 5), { alice: tw.pass.alice! }, ['--identity', `alice=${lost}`]), 1, 'IDENTITY_RETIRED', ['alice']);
    unchanged();
    await assert.rejects(shardWith(lost, tw.pass.alice!, 'alice', shardFile(tw, 'alice', ed.keyId)), 'the lost identity opens the re-wrapped shard');
    ok(await tw.kr(['guardian', 'check', '--json', '--guardian', 'g1', '--custodian', 'alice', ...pa(tw, {}, 'g1')]), 'g1\'s share of the new set');
    await sameKey(tw, ed, 1);
    await sameKey(tw, tr, 1);
    await signsIndependently(tw, ed, ['alice', 'bob'], now);
    await signsIndependently(tw, tr, ['alice', 'carol'], now);
    await audited(tw);
  });

  test('f. carol\'s passphrase is seen, her identity file and shard perhaps copied: rotation, then refresh of every key she holds', async () => {
    const tw = base.clone();
    const exposed = join(tw.freshDir('exposed'), 'carol.identity.age');
    const copied = join(tw.freshDir('copied'), 'carol.shard.age');
    copyFileSync(tw.identityFile('carol'), exposed);
    copyFileSync(shardFile(tw, 'carol', tr.keyId), copied);
    const rotated = tw.extraPassphrase('carol', 'rotated');
    ok(await tw.kr(['rotate', '--json', '--custodian', 'carol', '--new-passphrase-file', rotated, '--approvers', 'alice,bob', ...room(tw, {}, 'carol', 'alice', 'bob')]), 'rotate');
    const now: Passes = { carol: rotated };
    for (const key of [ed, tr]) {
      const out = ok(await tw.kr(['refresh', '--json', '--key', key.keyId, '--approvers', 'alice,bob', ...room(tw, now, 'alice', 'bob', 'carol')]), `refresh ${key.engine}`);
      assert.deepEqual([out.epoch, out.after.publicKey, out.export.nodesEmpty], [2, key.publicKey, true]);
    }
    assert.deepEqual(nodeShareFiles(tw), []);

    // The exposed identity neither signs nor approves any more.
    const unchanged = watch(tw.root);
    refused(await sign(tw, tr, ['alice', 'carol'], Buffer.alloc(32, 6), { carol: tw.pass.carol! }, ['--identity', `carol=${exposed}`]), 1, 'IDENTITY_RETIRED', ['carol']);
    const request = join(tw.freshDir('request'), 'refresh.request.json');
    ok(await tw.kr(['refresh', '--json', '--key', tr.keyId, '--request-out', request]), 'refresh --request-out');
    const approval = join(tw.freshDir('approval'), 'carol.approval.json');
    refused(await tw.kr(['approve', '--json', '--request', request, '--approver', 'carol', '--out', approval, '--identity', `carol=${exposed}`, ...pa(tw, {}, 'carol')]), 1, 'IDENTITY_RETIRED', ['carol']);
    unchanged();
    // It still opens the copied shard, but that share is of epoch 1 and gives nothing with epoch 2.
    const old = await shardWith(exposed, tw.pass.carol!, 'carol', copied);
    const aliceNow = (await readShard(tw, 'alice', shardFile(tw, 'alice', tr.keyId, 2))).share;
    assert.equal(giveTheKey('bip340', tr.publicKey, [old.share, aliceNow]), false, 'the copied share combines with a share of epoch 2');
    await assert.rejects(shardWith(exposed, tw.pass.carol!, 'carol', shardFile(tw, 'carol', tr.keyId, 2)), 'the exposed identity opens the new shard');

    await sameKey(tw, tr, 2);
    await signsIndependently(tw, tr, ['alice', 'carol'], now);
    await signsIndependently(tw, ed, ['bob', 'carol'], now);
    await audited(tw);
  });
});
