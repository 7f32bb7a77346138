import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { sha256Hex } from '../../src/base/canonical.js';
import { pgpWords } from '../../src/base/pgpwords.js';
import { loadState } from '../../src/audit/state.js';
import { verifyTranscripts } from '../../src/audit/verify.js';
import { newIdentity, publicOf, unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { openShard } from '../../src/custody/shard.js';
import { ceremonyFiles } from '../../src/evidence/chain.js';
import { sessionIdOf, type SessionParams } from '../../src/engine/index.js';
import { Workspace } from '../../src/fs/workspace.js';
import { SigningNode } from '../../src/node/node.js';
import { sealForNode, signRequest, type SignRequest } from '../../src/node/request.js';
import { newRequest, requestDigest, signApproval, type ApprovalRequest } from '../../src/state/approval-request.js';
import { writeCaches } from '../../src/state/cache.js';
import { member } from '../../src/state/roster.js';
import { snapshot, type Run } from '../support/cli.js';
import { independentVerify } from '../support/engine.js';
import { shardFile, steps } from '../support/lifecycle.js';
import { signStart } from '../support/node.js';
import { release } from '../support/recovery.js';
import { appendForged } from '../support/forge.js';
import { makeWorkspace, ok, readJsonFile, refused, type TestWorkspace } from '../support/workspace.js';

// keyrite rotate through the CLI (CEREMONY.md, "Rotating a custodian's identity"): a custodian's
// new identity under the other custodians' approvals (files made on their own devices, and in
// the room), witnessed; every shard they hold re-wrapped on this machine (the real age opens it
// with the new key only), the pins of the key records moved, the age key split into a new
// guardian set and the old one retired; the old identity and old shards refused by sign, the new
// ones signing. After a custodian recovery the custodian's shards are refused — by sign and by
// the node — until they rotate. The refusal table (each with its exit, code, the names the
// message says, nothing on disk changed), and a crafted rotation without approvals, which audit
// verify fails.

let tw: TestWorkspace; // custodians alice (g1-g3), bob, carol (j1-j3); 2 approvals
let keyId: string;
let publicKey: string;
const current: Record<string, string> = {}; // name → passphrase file, once it changed
let n = 0;
const HOUR = 3600_000;

const pa = (...names: string[]): string[] => names.flatMap((x) => ['--passphrase-file', `${x}=${current[x] ?? tw.pass[x]}`]);
const withFiles = (files: string[]): string[] => files.flatMap((f) => ['--approval', f]);
const rotate = (custodian: string, newPass: string, more: string[], people: string[] = [custodian]): Promise<Run> =>
  tw.kr(['rotate', '--json', '--custodian', custodian, '--new-passphrase-file', newPass, ...more, ...pa(tw.generator, tw.witness, ...people)]);
const sign = (signers: string[], more: string[] = []): Promise<Run> =>
  tw.kr(['sign', '--json', '--key', keyId, ...signers.flatMap((s) => ['--signer', s]), '--message-hex', 'c0ffee', ...more, ...pa(tw.generator, tw.witness, ...signers)]);

async function unlock(file: string, passFile: string, name: string): Promise<Identity> {
  return unlockIdentity(readFileSync(file), readFileSync(passFile, 'utf8').trimEnd(), name);
}

/** An approval file signed in the test with `who`'s real key: for requests `approve` itself refuses to sign. */
async function craftedApproval(who: string, r: ApprovalRequest): Promise<string> {
  const id = await unlock(tw.identityFile(who), current[who] ?? tw.pass[who]!, who);
  const f = join(tw.base, `crafted-${n++}.json`);
  writeFileSync(f, JSON.stringify(signApproval(r, publicOf(id), id.signing, new Date())));
  return f;
}

async function rotateRequest(custodian: string, o: { ttl?: number } = {}): Promise<ApprovalRequest> {
  const state = await loadState(new Workspace(tw.root));
  const from = member(state.requireRoster(), custodian, 'custodian').fingerprint;
  return newRequest({ operation: 'rotate', target: custodian, parameters: { from }, head: state.head! }, new Date(), o.ttl ?? HOUR);
}

/** The request written through the CLI, and each approver's approval file made from it "on their own device". */
async function approvalFiles(custodian: string, approvers: string[]): Promise<{ out: any; files: string[] }> {
  const req = join(tw.freshDir(`request-${n++}`), 'rotate.request.json');
  const out = ok(await tw.kr(['rotate', '--json', '--custodian', custodian, '--request-out', req, '--expires', '2h']), 'rotate --request-out');
  const files: string[] = [];
  for (const a of approvers) {
    const f = join(tw.freshDir(`${a}-${n++}`), `${a}.approval.json`);
    ok(await tw.kr(['approve', '--json', '--request', req, '--approver', a, '--out', f, ...pa(a)]), `approve by ${a}`);
    files.push(f);
  }
  return { out, files };
}

/** Runs `run`, asserts the refusal, and that not one byte under the workspace changed. */
async function refusedUnchanged(run: () => Promise<Run>, code: string, mentions: string[], exit = 1): Promise<any> {
  const before = snapshot(tw.root);
  const out = refused(await run(), exit, code, mentions);
  assert.deepEqual(snapshot(tw.root), before, 'a refused command changed the workspace');
  return out;
}

const verifies = async (): Promise<void> => assert.ok(ok(await tw.kr(['audit', 'verify', '--json'])).ok);

before(async () => {
  tw = await makeWorkspace({ guardians: { alice: ['g1', 'g2', 'g3'], carol: ['j1', 'j2', 'j3'] }, approvers: ['alice', 'bob', 'carol'], k: 2, m: 3 });
  const k = ok(await tw.kr(['keygen', '--json', '--engine', 'ed25519', '--custodians', 'alice,bob,carol', '--label', 'rotated', '--export', '--delete-after-export', ...pa(tw.generator, tw.witness, 'alice', 'bob', 'carol')]), 'keygen');
  keyId = k.keyId;
  publicKey = k.publicKey;
});

describe('keyrite rotate', { concurrency: 1 }, () => {
  let newAlice: string;
  let oldShardCopy: string; // alice's shard as exported, where rotate moved it
  let files: string[]; // bob's and carol's approvals of alice's rotation, consumed by it

  describe('refusal table (alice keeps her identity)', { concurrency: 1 }, () => {
    const fresh = () => tw.extraPassphrase('alice', 'new');

    test('below quorum: one approver in the room, one approval file', async () => {
      await refusedUnchanged(() => rotate('alice', fresh(), ['--approvers', 'bob'], ['alice', 'bob']), 'QUORUM_NOT_MET', ['1 approval', 'alice', 'needs 2']);
      const { files: one } = await approvalFiles('alice', ['bob']);
      await refusedUnchanged(() => rotate('alice', fresh(), withFiles(one)), 'QUORUM_NOT_MET', ['1 approval', 'alice', 'needs 2']);
    });

    test('an approval from the custodian rotated, in the room or as a file', async () => {
      await refusedUnchanged(() => rotate('alice', fresh(), ['--approvers', 'alice,bob'], ['alice', 'bob']), 'NOT_PERMITTED', ['alice', 'the target of rotate']);
      const r = await rotateRequest('alice');
      const crafted = [await craftedApproval('alice', r), await craftedApproval('bob', r)];
      await refusedUnchanged(() => rotate('alice', fresh(), withFiles(crafted)), 'NOT_PERMITTED', ['alice', 'never approves it']);
    });

    test('approvals of another custodian\'s rotation', async () => {
      const { files: bobs } = await approvalFiles('bob', ['alice', 'carol']);
      await refusedUnchanged(() => rotate('alice', fresh(), withFiles(bobs)), 'WRONG_REQUEST', ['target bob', 'not alice']);
    });

    test('expired', async () => {
      const r = await rotateRequest('alice', { ttl: -1000 });
      const crafted = [await craftedApproval('bob', r), await craftedApproval('carol', r)];
      await refusedUnchanged(() => rotate('alice', fresh(), withFiles(crafted)), 'APPROVAL_EXPIRED', ['bob', 'after the request expired']);
    });

    test('an unknown custodian, and someone who is no custodian', async () => {
      await refusedUnchanged(() => rotate('zed', fresh(), ['--approvers', 'bob,carol'], ['bob', 'carol']), 'NOT_ENROLLED', ['zed']);
      await refusedUnchanged(() => rotate('g1', fresh(), ['--approvers', 'bob,carol'], ['bob', 'carol']), 'WRONG_ROLE', ['g1', 'custodian']);
    });

    test('the wrong old passphrase', async () => {
      const wrong = tw.extraPassphrase('alice', 'wrong', 'not alice passphrase at all');
      await refusedUnchanged(
        () => tw.kr(['rotate', '--json', '--custodian', 'alice', '--new-passphrase-file', fresh(), '--approvers', 'bob,carol', ...pa(tw.generator, tw.witness, 'bob', 'carol'), '--passphrase-file', `alice=${wrong}`]),
        'WRONG_PASSPHRASE', ['alice'],
      );
    });

    test('no new passphrase (exit 2)', async () => {
      await refusedUnchanged(() => tw.kr(['rotate', '--json', '--custodian', 'alice', '--approvers', 'bob,carol', ...pa(tw.generator, tw.witness, 'alice', 'bob', 'carol')]), 'MISSING_INPUT', ['--new-passphrase-file'], 2);
    });
  });

  describe('after a custodian recovery, carol\'s shards wait for her rotation', { concurrency: 1 }, () => {
    let recovered: string; // carol's identity from the recovery
    let carolNew: string;

    before(async () => {
      current.carol = tw.extraPassphrase('carol', 'recovered');
      const start = ok(await tw.kr(['recover', 'custodian', '--custodian', 'carol', '--json', '--passphrase-file', `carol=${current.carol}`, '--approvers', 'alice,bob', ...pa(tw.generator, tw.witness, 'alice', 'bob')]), 'recover start');
      const released = [];
      for (const g of ['j1', 'j2']) released.push(['--released', `${g}=${await release(tw, g, 'carol', start)}`]);
      const out = tw.freshDir('carol-recovered');
      ok(await tw.kr(['recover', 'custodian', '--custodian', 'carol', '--json', '--session', start.session, ...released.flat(), '--out', out, '--approvers', 'alice,bob', ...pa(tw.generator, tw.witness, 'alice', 'bob', 'carol')]), 'recover finish');
      recovered = join(out, 'carol.identity.age');
    });

    test('sign with carol is refused, naming her and the rotation, and nothing changes', async () => {
      await refusedUnchanged(() => sign(['bob', 'carol'], ['--identity', `carol=${recovered}`]), 'ROTATION_REQUIRED', ['carol', 'rotate', 'custodian recovery']);
      const out = refused(await sign(['bob', 'carol'], ['--identity', `carol=${recovered}`]), 1, 'ROTATION_REQUIRED');
      assert.match(out.error.hint, /keyrite rotate --custodian NAME/);
    });

    test('carol\'s node refuses her signed request too', async () => {
      const ws = new Workspace(tw.root);
      const state = await loadState(ws);
      const r = state.key(keyId);
      const party = r.parties.find((p) => p.custodian === 'carol')!;
      const node = await SigningNode.open(ws, party.node);
      const participants = r.parties.filter((p) => p.custodian !== 'alice').map((p) => p.node);
      const session: SessionParams = { engine: r.engine, keyId, epoch: r.epoch, participants, t: 2, n: 3, ceremonyId: 'c-rotation-due', rosterDigest: state.rosterDigest };
      const request: SignRequest = { v: 1, keyId, epoch: r.epoch, messageDigest: sha256Hex(Buffer.from('m')), signers: ['bob', 'carol'], sessionId: sessionIdOf(session) };
      const carol = await unlock(recovered, current.carol!, 'carol');
      const shard = await openShard(readFileSync(shardFile(tw, 'carol', keyId)), carol.ageIdentity, 'carol');
      const share = await sealForNode(member(state.requireRoster(), party.node, 'node').recipient, shard.share);
      await assert.rejects(
        signStart(node, { session, request: signRequest('carol', carol.signing, request), share, message: Buffer.from('m').toString('hex') }),
        (e: any) => e.code === 'ROTATION_REQUIRED' && e.message.includes(party.node) && e.message.includes('carol'),
      );
    });

    test('rotate carol with approvers in the room; then she signs again', async () => {
      carolNew = tw.extraPassphrase('carol', 'rotated');
      const r = ok(await rotate('carol', carolNew, ['--approvers', 'alice,bob', '--identity', `carol=${recovered}`], ['carol', 'alice', 'bob']), 'rotate carol');
      current.carol = carolNew;
      assert.deepEqual(r.approvers, ['alice', 'bob']);
      const approvals = steps(tw, r.ceremony).filter((e) => e.step === 'approval');
      assert.deepEqual(approvals.map((e) => e.actor), ['alice', 'bob'], 'each approver in the room signs their own entry');
      const s = ok(await sign(['bob', 'carol']), 'sign after the rotation');
      assert.ok(independentVerify('ed25519', publicKey, Buffer.from('c0ffee', 'hex'), s.signature));
      await verifies();
    });
  });

  describe('alice, under approval files made on bob\'s and carol\'s own devices', { concurrency: 1 }, () => {
    let r: any;
    let oldId: Identity;
    let oldSet: string;
    let request: any;

    before(async () => {
      oldId = await unlock(tw.identityFile('alice'), tw.pass.alice!, 'alice');
      oldSet = readJsonFile(tw.setFile('alice')).setId;
      const made = await approvalFiles('alice', ['bob', 'carol']);
      files = made.files;
      request = made.out;
      newAlice = tw.extraPassphrase('alice', 'rotated');
      r = ok(await rotate('alice', newAlice, withFiles(files)), 'rotate alice');
      current.alice = newAlice;
      oldShardCopy = join(tw.root, r.retired.find((d: string) => d.startsWith('holdings/alice/')), `alice.${keyId}.e1.shard.age`);
    });

    test('the output: new fingerprint in hex and PGP words, the re-wrapped shard, the new set, ceremony and head', async () => {
      const state = await loadState(new Workspace(tw.root));
      const pub = member(state.requireRoster(), 'alice', 'custodian');
      assert.equal(r.fingerprint, pub.fingerprint);
      assert.notEqual(r.fingerprint, r.from);
      assert.equal(r.from, publicOf(oldId).fingerprint);
      assert.deepEqual(r.shards.map((x: any) => [x.keyId, x.epoch, x.path]), [[keyId, 1, `holdings/alice/alice.${keyId}.e1.shard.age`]]);
      assert.equal(r.request, request.digest);
      assert.deepEqual(r.approvers, ['bob', 'carol']);
      assert.equal(r.head, state.head);
      const text = await tw.kr(['rotate', '--custodian', 'alice', '--request-out', join(tw.base, `text-${n++}.json`)]);
      assert.equal(text.code, 0);
      const order = steps(tw, r.ceremony).map((e) => (e.step === 'checklist.confirm' ? 'confirm' : e.step)).filter((x) => x !== 'confirm');
      assert.deepEqual(order, ['ceremony.start', 'approval', 'approval', 'rotate.intent', 'roster.change', 'rotate.shard', 'custodian.setup', 'rotate.result', 'ceremony.seal']);
      const change = steps(tw, r.ceremony).find((e) => e.step === 'roster.change')!;
      assert.equal(change.actor, 'alice');
      assert.equal(change.signatures, 3, 'the old identity, the witness and the new identity sign the change');
      assert.equal(change.params.request, request.digest);
      assert.equal(steps(tw, r.ceremony).at(-1)!.signatures, 2, 'the witness co-signs the seal');
      assert.ok(steps(tw, r.ceremony).some((e) => e.step === 'checklist.confirm' && e.params.text.includes(pgpWords(r.fingerprint))), 'the new fingerprint in PGP words was on screen');
    });

    test('the new identity opens the re-wrapped shard; the real age opens it with the new key and not the old one', async () => {
      const next = await unlock(tw.identityFile('alice'), newAlice, 'alice');
      assert.equal(publicOf(next).fingerprint, r.fingerprint);
      const path = shardFile(tw, 'alice', keyId);
      const shard = await openShard(readFileSync(path), next.ageIdentity, path);
      assert.deepEqual([shard.keyId, shard.epoch, shard.custodian], [keyId, 1, 'alice']);
      const keyFile = (id: Identity) => {
        const f = join(tw.base, `age-${n++}.key`);
        writeFileSync(f, id.ageIdentity + '\n', { mode: 0o600 });
        return f;
      };
      const opened = spawnSync('age', ['-d', '-i', keyFile(next), path], { encoding: 'utf8' });
      assert.equal(opened.status, 0, opened.stderr);
      assert.equal(JSON.parse(opened.stdout).keyId, keyId);
      assert.notEqual(spawnSync('age', ['-d', '-i', keyFile(oldId), path]).status, 0, 'the old age key opened the new shard');
      assert.equal(spawnSync('age', ['-d', '-i', keyFile(oldId), oldShardCopy]).status, 0, 'the old shard is the old key\'s');
      const state = await loadState(new Workspace(tw.root));
      const pin = state.key(keyId).parties.find((p) => p.custodian === 'alice')!;
      assert.deepEqual([pin.recipient, pin.fingerprint], [next.recipient, r.fingerprint], 'the key record pins the new identity');
      assert.equal(readJsonFile(join(tw.root, 'keys', `${keyId}.json`)).parties.find((p: any) => p.custodian === 'alice').fingerprint, r.fingerprint);
    });

    test('a new guardian set; the old one retired', async () => {
      const set = readJsonFile(tw.setFile('alice'));
      assert.equal(set.setId, r.setId);
      assert.notEqual(r.setId, oldSet);
      assert.deepEqual(r.guardians, ['g1', 'g2', 'g3']);
      const state = await loadState(new Workspace(tw.root));
      assert.equal(state.guardianSets.get('alice')!.setId, r.setId);
      assert.deepEqual(state.retiredIdentities.get('alice')!.map((x) => [x.fingerprint, x.setId]), [[r.from, oldSet]]);
      const oldShare = join(tw.holdings('g1'), `retired-set-${oldSet.slice(0, 16)}`, 'g1.share-of-alice.json');
      assert.ok(existsSync(oldShare), 'the old share is set aside for g1 to destroy');
      const check = await tw.kr(['guardian', 'check', '--json', '--guardian', 'g1', '--custodian', 'alice', '--share', `g1=${oldShare}`, ...pa('g1')]);
      refused(check, 1, 'WRONG_SET', ['g1', oldSet.slice(0, 8), 'retired']);
      ok(await tw.kr(['guardian', 'check', '--json', '--guardian', 'g1', '--custodian', 'alice', ...pa('g1')]), 'the new share checks');
      await verifies();
    });

    test('the old identity file no longer signs; the old shard is refused; the new identity signs', async () => {
      const oldFile = join(tw.root, r.retired.find((d: string) => d.startsWith('holdings/alice/')), 'alice.identity.age');
      assert.ok(existsSync(oldFile));
      await refusedUnchanged(
        () => tw.kr(['sign', '--json', '--key', keyId, '--signer', 'alice', '--signer', 'bob', '--message-hex', 'c0ffee', '--identity', `alice=${oldFile}`, '--shard', `alice=${oldShardCopy}`, ...pa(tw.generator, tw.witness, 'bob'), '--passphrase-file', `alice=${tw.pass.alice}`]),
        'SHARD_RETIRED', ['alice', keyId, 'rotation'],
      );
      await refusedUnchanged(
        () => tw.kr(['sign', '--json', '--key', keyId, '--signer', 'alice', '--signer', 'bob', '--message-hex', 'c0ffee', '--identity', `alice=${oldFile}`, ...pa(tw.generator, tw.witness, 'bob'), '--passphrase-file', `alice=${tw.pass.alice}`]),
        'IDENTITY_RETIRED', ['alice', oldFile, 'destroy it'],
      );
      const s = ok(await sign(['alice', 'bob']), 'sign with the new identity');
      assert.ok(independentVerify('ed25519', publicKey, Buffer.from('c0ffee', 'hex'), s.signature), 'node:crypto verifies the signature');
      await verifies();
    });

    test('refused afterwards: the consumed approvals reused, and the old shard offered again', async () => {
      await refusedUnchanged(() => rotate('alice', tw.extraPassphrase('alice', 'again'), withFiles(files)), 'APPROVAL_USED', ['bob', 'already consumed']);
      await refusedUnchanged(() => rotate('alice', tw.extraPassphrase('alice', 'again'), ['--approvers', 'bob,carol', '--shard', `${keyId}=${oldShardCopy}`], ['alice', 'bob', 'carol']), 'SHARD_RETIRED', ['alice', keyId, 'rotation']);
    });
  });

  describe('a crafted rotation, signed with the real keys', { concurrency: 1 }, () => {
    test('verifies with its approvals, and fails audit verify with them removed', async () => {
      const honest = tw.clone();
      const r = await rotateRequest('bob');
      await forgeRekey(new Workspace(honest.root), r, ['alice', 'carol']);
      assert.deepEqual(await failuresOf(honest.root), [], 'the forger plants nothing by itself');
      const bare = tw.clone();
      const id = await forgeRekey(new Workspace(bare.root), r, []);
      const failures = await failuresOf(bare.root);
      assert.ok(failures.some((f) => f.file === `transcripts/${id}.jsonl` && f.kind === 'transition' && /needs 2 approvals for rotate/.test(f.reason)), JSON.stringify(failures, null, 1));
      assert.notEqual((await bare.kr(['audit', 'verify', '--json'])).code, 0, 'audit verify fails through the CLI too');
    });
  });
});

async function failuresOf(root: string): Promise<{ file: string; line: number; kind: string; reason: string }[]> {
  return (await verifyTranscripts({ files: ceremonyFiles(join(root, 'transcripts')), root })).failures;
}

/**
 * Appends a rotate ceremony that re-keys bob under request `r` with `approvers`' approvals (and
 * no re-wrapped shard: bob stays rotation due), signed with the real keys of everyone it names.
 */
async function forgeRekey(ws: Workspace, r: ApprovalRequest, approvers: string[]): Promise<string> {
  const id = async (name: string) => unlock(join(ws.root, 'holdings', name, `${name}.identity.age`), current[name] ?? tw.pass[name]!, name);
  const [gen, wit, bob] = [await id(tw.generator), await id(tw.witness), await id('bob')];
  const next = await newIdentity('bob', 'custodian');
  const ids: Identity[] = [];
  for (const a of approvers) ids.push(await id(a));
  const from = publicOf(bob).fingerprint;
  const state = await loadState(ws);
  const lines = [
    { step: 'ceremony.start', signers: [gen], params: { custodian: 'bob', from, script: 'rotate' } },
    ...ids.map((a) => ({ step: 'approval', signers: [a], params: { approval: signApproval(r, publicOf(a), a.signing, new Date()) } })),
    { step: 'rotate.intent', signers: [gen], params: { target: 'bob', from, to: publicOf(next).fingerprint, keys: [{ keyId, epoch: 1 }] } },
    { step: 'roster.change', signers: [bob, wit, next], params: { change: { op: 'rekey', name: 'bob', identity: publicOf(next) }, version: state.requireRoster().version + 1, target: 'bob', from, request: requestDigest(r) } },
    { step: 'ceremony.seal', signers: [gen, wit], params: { entries: ids.length + 4 } },
  ];
  const cid = appendForged(ws, state, 'rotate', lines);
  writeCaches(ws, state); // what the forger would leave: caches that agree with the forged history
  return cid;
}
