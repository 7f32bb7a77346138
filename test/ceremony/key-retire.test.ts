import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { pgpWords } from '../../src/base/pgpwords.js';
import { loadState } from '../../src/audit/state.js';
import { SignRules } from '../../src/audit/sign-rules.js';
import { verifyTranscripts } from '../../src/audit/verify.js';
import { publicOf, unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { ceremonyFiles, TRANSCRIPT_EXT } from '../../src/evidence/chain.js';
import { Workspace } from '../../src/fs/workspace.js';
import { newRequest, requestDigest, signApproval, type ApprovalRequest } from '../../src/state/approval-request.js';
import { sha256Hex } from '../../src/base/canonical.js';
import { sessionIdOf, type SessionParams } from '../../src/engine/index.js';
import { SigningNode } from '../../src/node/node.js';
import { sealForNode, signRequest, type SignRequest } from '../../src/node/request.js';
import { member } from '../../src/state/roster.js';
import { snapshot, type Run } from '../support/cli.js';
import { everyone, lifecycleWorkspace, readShard, shardFile, steps } from '../support/lifecycle.js';
import { nodeDraft, signStart } from '../support/node.js';
import { appendForged, type ForgedLine } from '../support/forge.js';
import { ok, readJsonFile, refused, type TestWorkspace } from '../support/workspace.js';

// keyrite key retire through the CLI (CEREMONY.md, "Retiring a key"): the request written for
// the approvers' own devices, approvals from files and in the room, the key then retired in the
// fold (key show, sign, export and each node refuse it, audit verify passes); the refusal table — below
// quorum, from a non-custodian, expired, another head, another key's request, a consumed
// approval reused, an unknown key, a key retired already — each with its exit and code, the
// names it must say, and nothing on disk changed; and a crafted retire whose approvals were
// removed, which audit verify fails.

let tw: TestWorkspace; // custodians alice, bob, carol; the policy asks 2 approvals
const keys: Record<'files' | 'room' | 'table', string> = { files: '', room: '', table: '' };
let n = 0;
const HOUR = 3600_000;

const retire = (key: string, more: string[]): Promise<Run> => tw.kr(['key', 'retire', '--json', '--key', key, ...more, ...tw.passArgs(tw.generator, tw.witness)]);
const withFiles = (files: string[]) => files.flatMap((f) => ['--approval', f]);
const keyStatus = async (key: string): Promise<string> => ok(await tw.kr(['key', 'show', '--json', '--key', key])).key.status;

async function keygen(label: string, extra: string[]): Promise<string> {
  const out = ok(await tw.kr(['keygen', '--json', '--engine', 'ed25519', '--custodians', 'alice,bob,carol', '--label', label, ...extra, ...everyone(tw)]), `keygen ${label}`);
  return out.keyId;
}

/** Writes the request for `key` through the CLI and has each approver sign it into a file on their own device. */
async function approvalFiles(key: string, approvers: string[]): Promise<{ out: any; files: string[] }> {
  const req = join(tw.freshDir(`request-${n++}`), 'retire.request.json');
  const out = ok(await tw.kr(['key', 'retire', '--json', '--key', key, '--request-out', req, '--expires', '2h']));
  const files: string[] = [];
  for (const a of approvers) {
    const f = join(tw.freshDir(`${a}-${n++}`), `${a}.approval.json`);
    ok(await tw.kr(['approve', '--json', '--request', req, '--approver', a, '--out', f, ...tw.passArgs(a)]), `approve by ${a}`);
    files.push(f);
  }
  return { out, files };
}

async function identity(name: string): Promise<Identity> {
  return unlockIdentity(readFileSync(tw.identityFile(name)), tw.passphrases[name]!, name);
}

/** An approval file signed in the test with `who`'s real key: for requests `approve` itself refuses to sign. */
async function craftedApproval(who: string, r: ApprovalRequest): Promise<string> {
  const id = await identity(who);
  const f = join(tw.base, `crafted-${n++}.json`);
  writeFileSync(f, JSON.stringify(signApproval(r, publicOf(id), id.signing, new Date())));
  return f;
}

async function retireRequest(key: string, o: { head?: string; ttl?: number } = {}): Promise<ApprovalRequest> {
  const state = await loadState(new Workspace(tw.root));
  return newRequest({ operation: 'key-retire', target: key, parameters: { epoch: 1 }, head: o.head ?? state.head! }, new Date(), o.ttl ?? HOUR);
}

/** Runs `run`, asserts the refusal, and that not one byte under the workspace changed. */
async function refusedUnchanged(run: () => Promise<Run>, code: string, mentions: string[], exit = 1): Promise<any> {
  const before = snapshot(tw.root);
  const out = refused(await run(), exit, code, mentions);
  assert.deepEqual(snapshot(tw.root), before, 'a refused retire changed the workspace');
  return out;
}

before(async () => {
  tw = await lifecycleWorkspace();
  keys.files = await keygen('retire-by-files', ['--export', '--delete-after-export']);
  keys.room = await keygen('retire-in-room', []);
  keys.table = await keygen('retire-refused', ['--export', '--delete-after-export']);
});

describe('keyrite key retire', { concurrency: 1 }, () => {
  describe('refusal table (the key stays active)', { concurrency: 1 }, () => {
    test('below quorum: one approver in the room, one approval file', async () => {
      await refusedUnchanged(() => retire(keys.table, ['--approvers', 'bob', ...tw.passArgs('bob')]), 'QUORUM_NOT_MET', ['1 approval', keys.table, 'needs 2']);
      const { files } = await approvalFiles(keys.table, ['bob']);
      const out = await refusedUnchanged(() => retire(keys.table, withFiles(files)), 'QUORUM_NOT_MET', ['1 approval', keys.table, 'needs 2']);
      assert.match(out.error.hint, /--approvers A,B, or give their approval files with --approval FILE/);
    });

    test('below quorum by the fold\'s count: the same approver twice', async () => {
      const { files } = await approvalFiles(keys.table, ['bob']);
      await refusedUnchanged(() => retire(keys.table, withFiles([files[0]!, files[0]!])), 'APPROVAL_USED', ['bob', 'already approved']);
    });

    test('from a non-custodian: the witness in the room, or a witness-signed approval file', async () => {
      await refusedUnchanged(() => retire(keys.table, ['--approvers', `bob,${tw.witness}`, ...tw.passArgs('bob')]), 'WRONG_ROLE', [tw.witness, 'custodian']);
      const r = await retireRequest(keys.table);
      const files = [await craftedApproval('bob', r), await craftedApproval(tw.witness, r)];
      await refusedUnchanged(() => retire(keys.table, withFiles(files)), 'NOT_PERMITTED', [tw.witness, 'not a custodian']);
    });

    test('expired', async () => {
      const r = await retireRequest(keys.table, { ttl: -1000 });
      const files = [await craftedApproval('bob', r), await craftedApproval('carol', r)];
      await refusedUnchanged(() => retire(keys.table, withFiles(files)), 'APPROVAL_EXPIRED', ['bob', 'after the request expired']);
    });

    test('made at the head of another history', async () => {
      const r = await retireRequest(keys.table, { head: 'b'.repeat(64) });
      const files = [await craftedApproval('bob', r), await craftedApproval('carol', r)];
      await refusedUnchanged(() => retire(keys.table, withFiles(files)), 'WRONG_REQUEST', ['bob', 'not a line of this history']);
    });

    test('approvals of another key\'s request', async () => {
      const { files } = await approvalFiles(keys.files, ['bob', 'carol']);
      await refusedUnchanged(() => retire(keys.table, withFiles(files)), 'WRONG_REQUEST', [`target ${keys.files}`, `not ${keys.table}`]);
    });

    test('an unknown key, for the retire and for its request (exit 2: no key has that id)', async () => {
      const unknown = 'k0123456789abcdef';
      await refusedUnchanged(() => retire(unknown, ['--approvers', 'bob,carol', ...tw.passArgs('bob', 'carol')]), 'BAD_KEY_ID', [unknown], 2);
      await refusedUnchanged(() => tw.kr(['key', 'retire', '--json', '--key', unknown, '--request-out', join(tw.base, 'none.json')]), 'BAD_KEY_ID', [unknown], 2);
    });

    test('command lines that make no sense (exit 2)', async () => {
      const req = join(tw.base, `bad-${n++}.json`);
      await refusedUnchanged(() => tw.kr(['key', 'retire', '--json', '--key', keys.table, '--request-out', req, '--expires', '0h']), 'USAGE', ['30m, 24h or 7d', '0h'], 2);
      await refusedUnchanged(() => tw.kr(['key', 'retire', '--json', '--key', keys.table, '--request-out', req, '--approvers', 'bob,carol']), 'USAGE', ['--request-out'], 2);
      await refusedUnchanged(() => retire(keys.table, ['--approvers', 'bob,carol', '--expires', '1h', ...tw.passArgs('bob', 'carol')]), 'USAGE', ['--expires'], 2);
    });

    test('every refusal left the key active', async () => {
      assert.equal(await keyStatus(keys.table), 'active');
    });
  });

  test('with approval files: the request in hex and PGP words, recorded nothing; then the key retired', async () => {
    const before = snapshot(tw.root);
    const { out, files } = await approvalFiles(keys.files, ['bob', 'carol']);
    assert.equal(out.words, pgpWords(out.digest));
    assert.equal(readJsonFile(out.file).target, keys.files);
    assert.equal(requestDigest(readJsonFile(out.file)), out.digest);
    assert.deepEqual(snapshot(tw.root), before, 'writing the request and the approvals records nothing');
    const r = ok(await retire(keys.files, withFiles(files)));
    assert.equal(r.request, out.digest);
    assert.deepEqual(r.approvers, ['bob', 'carol']);
    assert.equal(r.key.status, 'retired');
    const recorded = steps(tw, r.ceremony);
    const order = recorded.map((e) => (e.step === 'checklist.confirm' ? `confirm ${e.params.step}` : e.step));
    assert.deepEqual(order, [
      'ceremony.start', 'confirm ceremony.start', 'confirm key.retire',
      'confirm approval', 'approval', 'confirm approval', 'approval', 'key.retire', 'ceremony.seal',
    ], 'each checklist item once, before the entry it is for');
    const act = recorded.find((e) => e.step === 'key.retire')!;
    assert.equal(act.params.request, out.digest);
    assert.equal(recorded.at(-1)!.signatures, 2, 'the witness co-signs the seal');
    assert.equal(await keyStatus(keys.files), 'retired');
    assert.equal(readJsonFile(join(tw.root, 'keys', `${keys.files}.json`)).status, 'retired');
    assert.ok(ok(await tw.kr(['audit', 'verify', '--json'])).ok);
  });

  test('with approvers in the room', async () => {
    const r = ok(await retire(keys.room, ['--approvers', 'alice,bob', ...tw.passArgs('alice', 'bob')]));
    assert.deepEqual(r.approvers, ['alice', 'bob']);
    const approvals = steps(tw, r.ceremony).filter((e) => e.step === 'approval');
    assert.deepEqual(approvals.map((e) => e.actor), ['alice', 'bob'], 'each approver signs their own entry');
    assert.equal(await keyStatus(keys.room), 'retired');
    assert.ok(ok(await tw.kr(['audit', 'verify', '--json'])).ok);
  });

  describe('a retired key', { concurrency: 1 }, () => {
    test('sign refuses it, naming the key, and changes nothing', async () => {
      await refusedUnchanged(
        () => tw.kr(['sign', '--json', '--key', keys.files, '--signer', 'alice', '--signer', 'bob', '--message-hex', 'abcd', ...everyone(tw)]),
        'KEY_NOT_ACTIVE',
        [keys.files, 'retired', 'no longer signs'],
      );
    });

    test('export refuses it while its nodes still hold their shares', async () => {
      await refusedUnchanged(() => tw.kr(['export', '--json', '--key', keys.room, ...everyone(tw)]), 'KEY_NOT_ACTIVE', [keys.room, 'retired']);
    });

    test('each node refuses it, to sign with (a share handed in) and to export (a share it holds)', async () => {
      const ws = new Workspace(tw.root);
      const state = await loadState(ws);
      const node = await SigningNode.open(ws, 'node-1');
      const r = state.key(keys.files);
      const session: SessionParams = { engine: r.engine, keyId: r.keyId, epoch: r.epoch, participants: ['node-1', 'node-2'], t: 2, n: 3, ceremonyId: 'c-retired', rosterDigest: state.rosterDigest };
      const request: SignRequest = { v: 1, keyId: r.keyId, epoch: r.epoch, messageDigest: sha256Hex('m'), signers: ['alice', 'bob'], sessionId: sessionIdOf(session) };
      const alice = await identity('alice');
      const shard = await readShard(tw, 'alice', shardFile(tw, 'alice', r.keyId));
      const share = await sealForNode(member(state.requireRoster(), 'node-1', 'node').recipient, shard.share);
      const notActive = (key: string) => (e: any) => e.code === 'KEY_NOT_ACTIVE' && e.message.includes(key) && e.message.includes('node-1') && e.message.includes('retired');
      await assert.rejects(signStart(node, { session, request: signRequest('alice', alice.signing, request), share, message: Buffer.from('m').toString('hex') }), notActive(keys.files));
      const before = snapshot(tw.root);
      await assert.rejects(node.exportShard({ keyId: keys.room, epoch: 1 }, state.key(keys.room).parties[0]!.recipient, nodeDraft(state)), notActive(keys.room));
      assert.deepEqual(snapshot(tw.root), before, 'the node keeps its share and writes nothing');
    });

    test('it cannot be retired again, nor a request written for it', async () => {
      await refusedUnchanged(() => retire(keys.room, ['--approvers', 'bob,carol', ...tw.passArgs('bob', 'carol')]), 'KEY_NOT_ACTIVE', [keys.room, 'retired']);
      await refusedUnchanged(() => tw.kr(['key', 'retire', '--json', '--key', keys.room, '--request-out', join(tw.base, 'again.json')]), 'KEY_NOT_ACTIVE', [keys.room, 'retired']);
    });

    test('its consumed approvals do not retire another key', async () => {
      const consumed = steps(tw, readdirCeremony('key-retire')[0]!).filter((e) => e.step === 'approval').map((e, i) => {
        const f = join(tw.base, `consumed-${i}.json`);
        writeFileSync(f, JSON.stringify(e.params.approval));
        return f;
      });
      await refusedUnchanged(() => retire(keys.table, withFiles(consumed)), 'APPROVAL_USED', ['bob', 'already consumed']);
    });
  });

  describe('a crafted retire, signed with the real keys', { concurrency: 1 }, () => {
    test('verifies with its approvals, and fails audit verify with them removed', async () => {
      const honest = tw.clone();
      const r = await retireRequest(keys.table);
      await forgeRetire(new Workspace(honest.root), r, ['bob', 'carol']);
      assert.deepEqual(await failuresOf(honest.root), [], 'the forger plants nothing by itself');
      const bare = tw.clone();
      const id = await forgeRetire(new Workspace(bare.root), r, []);
      const failures = await failuresOf(bare.root);
      const hit = failures.find((f) => f.file === `transcripts/${id}.jsonl` && f.line === 2 && f.kind === 'transition' && /needs 2 approvals for key-retire/.test(f.reason));
      assert.ok(hit, `expected the bare key.retire to fail; got ${JSON.stringify(failures, null, 1)}`);
      const cli = await bare.kr(['audit', 'verify', '--json']);
      assert.notEqual(cli.code, 0, 'audit verify fails through the CLI too');
    });

    test('an export of a retired key fails audit verify; the same export of an active key verifies', async () => {
      const gen = await identity(tw.generator);
      const exportOf = (key: string): ForgedLine[] => [
        { step: 'ceremony.start', signers: [gen], params: { keyId: key, epoch: 1, script: 'export' } },
        { step: 'export.intent', signers: [gen], params: { keyId: key, epoch: 1, custodians: ['alice', 'bob', 'carol'], deleteAfterExport: false } },
      ];
      const honest = tw.clone();
      await forge(new Workspace(honest.root), 'export', exportOf(keys.table), [gen]);
      assert.deepEqual(await failuresOf(honest.root), []);
      const crafted = tw.clone();
      const id = await forge(new Workspace(crafted.root), 'export', exportOf(keys.room), [gen]);
      const failures = await failuresOf(crafted.root);
      assert.ok(failures.some((f) => f.file === `transcripts/${id}.jsonl` && f.line === 2 && f.kind === 'transition' && f.reason.includes(`key ${keys.room}: the key is retired`)), JSON.stringify(failures, null, 1));
    });

    test('the verifier\'s sign rules refuse a signature by a retired key', async () => {
      const state = await loadState(new Workspace(tw.root));
      const rules = new SignRules((k) => state.keys.get(k));
      const intent = { keyId: keys.files, epoch: 1, messageDigest: sha256Hex('m'), signers: ['alice', 'bob'], sessionId: 's', nodes: ['node-1', 'node-2'] };
      assert.equal(rules.intended(intent), null);
      assert.match(rules.result(intent, { signature: '00' }) ?? '', new RegExp(`key ${keys.files}, which is retired`));
    });
  });
});

/** The ceremony ids of `script` in the workspace, oldest first. */
function readdirCeremony(script: string): string[] {
  return ceremonyFiles(join(tw.root, 'transcripts')).map((f) => f.split('/').at(-1)!.replace(TRANSCRIPT_EXT, '')).filter((id) => id.includes(script));
}

async function failuresOf(root: string): Promise<{ file: string; line: number; kind: string; reason: string }[]> {
  return (await verifyTranscripts({ files: ceremonyFiles(join(root, 'transcripts')), root })).failures;
}


/**
 * Appends a key-retire ceremony of `keys.table` naming request `r`, with `approvers`' approvals
 * before key.retire, signed with the real keys of those it names: what someone holding the
 * generator's and witness's keys could write.
 */
async function forgeRetire(ws: Workspace, r: ApprovalRequest, approvers: string[]): Promise<string> {
  const [gen, wit] = [await identity(tw.generator), await identity(tw.witness)];
  const ids: Identity[] = [];
  for (const a of approvers) ids.push(await identity(a));
  const key = keys.table;
  return forge(ws, 'key-retire', [
    { step: 'ceremony.start', signers: [gen], params: { keyId: key, epoch: 1, script: 'key-retire' } },
    ...ids.map((a) => ({ step: 'approval', signers: [a], params: { approval: signApproval(r, publicOf(a), a.signing, new Date()) } })),
    { step: 'key.retire', signers: [gen], params: { keyId: key, target: key, epoch: 1, request: requestDigest(r) } },
  ], [gen, wit]);
}

/**
 * Appends a whole ceremony of `script`, each line signed by its signers and chained after the
 * workspace's head under the roster in force, closed by a seal signed by `sealers`.
 */
async function forge(ws: Workspace, name: string, body: ForgedLine[], sealers: Identity[]): Promise<string> {
  return appendForged(ws, await loadState(ws), name, [...body, { step: 'ceremony.seal', signers: sealers, params: { entries: body.length + 1 } }]);
}
