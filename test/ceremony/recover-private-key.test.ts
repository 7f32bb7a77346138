import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, bytesToNumberLE } from '@noble/curves/utils.js';
import { loadState } from '../../src/audit/state.js';
import { sha256Hex } from '../../src/base/canonical.js';
import { unlockIdentity } from '../../src/custody/identity.js';
import { sessionIdOf, taprootDescriptors, type SessionParams } from '../../src/engine/index.js';
import { Workspace } from '../../src/fs/workspace.js';
import { SigningNode } from '../../src/node/node.js';
import { sealForNode, signRequest } from '../../src/node/request.js';
import { newRequest } from '../../src/state/approval-request.js';
import { member } from '../../src/state/roster.js';
import { allFiles, snapshot, type Run } from '../support/cli.js';
import { everyone, keygen, lifecycleWorkspace, readShard, shardFile, steps } from '../support/lifecycle.js';
import { signStart } from '../support/node.js';
import { ok, refused, type TestWorkspace } from '../support/workspace.js';

// keyrite recover private-key through the CLI (CEREMONY.md, "Emergency: recovering the private
// key"): for each engine, the key rebuilt from two shards and sealed to a recipient made by the
// real `age-keygen`; only that recipient's identity opens it with the real `age`, and the secret
// inside gives the public key (ed25519 s·B, bip340 x(d·G) = x(Q), ecdsa the compressed point);
// the key is then compromised and `sign` refuses it; audit verify passes; the secret's hex is in
// no output and no workspace file. And the refusal table, each with exit, code, the names in the
// message, nothing changed on disk, and no output file.

let tw: TestWorkspace;
const keys: Record<string, any> = {};
let n = 0;

/** A fresh age X25519 identity from the real age-keygen: its file and its recipient. */
function ageIdentity(): { file: string; recipient: string } {
  const file = join(tw.base, `age-${n++}.key`);
  execFileSync('age-keygen', ['-o', file], { stdio: 'pipe' });
  const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(file, 'utf8'))![1]!;
  return { file, recipient };
}

const outFile = (): string => join(tw.base, `recovered-${n++}.age`);

const recover = (keyId: string, to: string, out: string, more: string[]): Promise<Run> =>
  tw.kr(['recover', 'private-key', '--json', '--key', keyId, '--to', to, '--out', out, ...more, ...everyone(tw)]);

const room = ['--custodians', 'alice,bob', '--approvers', 'bob,carol'];

/** The public key the secret gives, in the engine's encoding of the key record's public key. */
function publicOf(engine: string, secretHex: string): string {
  const secret = Buffer.from(secretHex, 'hex');
  if (engine === 'ed25519') return ed25519.Point.BASE.multiply(bytesToNumberLE(secret)).toHex();
  if (engine === 'bip340') return schnorr.Point.BASE.multiply(bytesToNumberBE(secret)).toHex(true).slice(2); // x(d·G)
  return secp256k1.Point.BASE.multiply(bytesToNumberBE(secret)).toHex(true);
}

/** Refused with nothing changed in the workspace and no output file; `hint`: words the CLI's hint must say. */
async function refusedUnchanged(run: (out: string) => Promise<Run>, exit: number, code: string, mentions: string[], hint: string[] = []): Promise<void> {
  const out = outFile();
  const before = snapshot(tw.root);
  const r = refused(await run(out), exit, code, mentions);
  for (const h of hint) assert.ok(String(r.error.hint).includes(h), `the hint should name ${h}: ${r.error.hint}`);
  assert.deepEqual(snapshot(tw.root), before, 'a refused recovery changed the workspace');
  assert.ok(!existsSync(out), 'a refused recovery wrote its output file');
}

/**
 * alice's node, handed her own shard and her signed request for `keyId` exactly as `sign` would
 * hand them: it must refuse the key itself, by the fold it reads from the workspace.
 */
async function nodeRefuses(keyId: string, engine: string): Promise<void> {
  const ws = new Workspace(tw.root);
  const state = await loadState(ws);
  const r = state.key(keyId);
  const alice = await unlockIdentity(readFileSync(tw.identityFile('alice')), tw.passphrases.alice!, 'alice');
  const shard = await readShard(tw, 'alice', shardFile(tw, 'alice', keyId));
  const message = Buffer.alloc(32, 7);
  const session: SessionParams = { engine, keyId, epoch: r.epoch, participants: ['node-1', 'node-2'], t: 2, n: 3, ceremonyId: '9999-test', rosterDigest: state.rosterDigest };
  const request = { v: 1 as const, keyId, epoch: r.epoch, messageDigest: sha256Hex(message), signers: ['alice', 'bob'], sessionId: sessionIdOf(session) };
  const node = await SigningNode.open(ws, 'node-1');
  const share = await sealForNode(member(state.requireRoster(), 'node-1', 'node').recipient, shard.share);
  await assert.rejects(signStart(node, { session, request: signRequest('alice', alice.signing, request), share, message: message.toString('hex') }), (e: any) => e.code === 'KEY_NOT_ACTIVE' && e.message.includes('compromised'));
}

before(async () => {
  tw = await lifecycleWorkspace();
  for (const engine of ['ed25519', 'bip340', 'ecdsa']) keys[engine] = await keygen(tw, engine);
});

describe('recover private-key: refusals', { concurrency: 1 }, () => {
  test('without approvals, or below quorum', async () => {
    const k = keys.ed25519;
    const { recipient } = ageIdentity();
    await refusedUnchanged((out) => recover(k.keyId, recipient, out, ['--custodians', 'alice,bob']), 1, 'QUORUM_NOT_MET', [k.keyId, '0 approval'], ['--approvers', '--approval']);
    await refusedUnchanged((out) => recover(k.keyId, recipient, out, ['--custodians', 'alice,bob', '--approvers', 'carol']), 1, 'QUORUM_NOT_MET', [k.keyId, '1 approval']);
  });

  test('an approval file for another recipient is not this act\'s', async () => {
    const k = keys.ed25519;
    const { recipient } = ageIdentity();
    const other = ageIdentity().recipient;
    const head = (await loadState(new Workspace(tw.root))).head!;
    const request = join(tw.base, `request-${n++}.json`);
    writeFileSync(request, JSON.stringify(newRequest({ operation: 'recover-private-key', target: k.keyId, parameters: { epoch: 1, recipient: other }, head }, new Date(), 3600_000)));
    const files = ['bob', 'carol'].map((a) => {
      const f = join(tw.freshDir(a), `${a}.approval.json`);
      return { a, f };
    });
    for (const { a, f } of files) ok(await tw.kr(['approve', '--json', '--request', request, '--approver', a, '--out', f, ...tw.passArgs(a)]));
    await refusedUnchanged((out) => recover(k.keyId, recipient, out, ['--custodians', 'alice,bob', ...files.flatMap((x) => ['--approval', x.f])]), 1, 'WRONG_REQUEST', [other, recipient]);
  });

  test('a recipient that is not an age X25519 recipient', async () => {
    await refusedUnchanged((out) => recover(keys.ed25519.keyId, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA', out, room), 2, 'BAD_RECIPIENT', ['ssh-ed25519', 'age1'], ['--to', 'age-keygen']);
  });

  test('too few custodians, or one who holds no shard of the key', async () => {
    const { recipient } = ageIdentity();
    await refusedUnchanged((out) => recover(keys.ed25519.keyId, recipient, out, ['--custodians', 'alice', '--approvers', 'bob,carol']), 1, 'COMBINE_TOO_FEW_SHARES', [keys.ed25519.keyId, 'alice', '1 named']);
    await refusedUnchanged((out) => recover(keys.ed25519.keyId, recipient, out, ['--custodians', 'alice,witness', '--approvers', 'bob,carol']), 1, 'NOT_PERMITTED', ['witness', 'holds no shard', keys.ed25519.keyId]);
  });

  test('a shard of another key, named with its custodian and file', async () => {
    const { recipient } = ageIdentity();
    const wrong = shardFile(tw, 'alice', keys.bip340.keyId);
    await refusedUnchanged((out) => recover(keys.ed25519.keyId, recipient, out, [...room, '--shard', `alice=${wrong}`]), 1, 'WRONG_KEY', ['alice', wrong, keys.bip340.keyId]);
  });

  test('an --out file that exists is never overwritten', async () => {
    const { recipient } = ageIdentity();
    const out = outFile();
    writeFileSync(out, 'already here\n');
    const before = snapshot(tw.root);
    refused(await recover(keys.ed25519.keyId, recipient, out, room), 1, 'FILE_EXISTS', [out]);
    assert.deepEqual(snapshot(tw.root), before);
    assert.equal(readFileSync(out, 'utf8'), 'already here\n');
  });
});

describe('recover private-key', { concurrency: 1 }, () => {
  for (const engine of ['ed25519', 'bip340', 'ecdsa']) {
    test(`${engine}: sealed to the named recipient only, the secret gives the public key, the key is compromised`, async () => {
      const k = keys[engine];
      const me = ageIdentity();
      const stranger = ageIdentity();
      const out = outFile();
      const r = ok(await recover(k.keyId, me.recipient, out, room), `recover private-key ${engine}`);
      assert.equal(r.publicKey, k.publicKey);
      assert.equal(r.file, out);
      assert.deepEqual(r.custodians, ['alice', 'bob']);
      assert.equal(statSync(out).mode & 0o777, 0o600);
      assert.deepEqual(steps(tw, r.ceremony).map((e) => e.step).filter((s) => !s.startsWith('checklist')), ['ceremony.start', 'approval', 'approval', 'recover.intent', 'recover.result', 'ceremony.seal']);
      const confirmed = steps(tw, r.ceremony).filter((e) => e.step === 'checklist.confirm').map((e) => JSON.stringify(e.params));
      assert.ok(confirmed.some((t) => t.includes('recover.intent') && t.includes(me.recipient)), 'the recipient was on screen when it was confirmed');
      const intent = steps(tw, r.ceremony).find((e) => e.step === 'recover.intent')!;
      assert.deepEqual([intent.params.keyId, intent.params.epoch, intent.params.recipient, intent.params.custodians], [k.keyId, 1, me.recipient, ['alice', 'bob']]);

      const opened = spawnSync('age', ['-d', '-i', me.file, out], { encoding: 'utf8' });
      assert.equal(opened.status, 0, opened.stderr);
      const doc = JSON.parse(opened.stdout);
      assert.deepEqual([doc.kind, doc.keyId, doc.engine, doc.epoch, doc.publicKey], ['keyrite/recovered-private-key', k.keyId, engine, 1, k.publicKey]);
      assert.match(doc.secret, /^[0-9a-f]{64}$/);
      assert.equal(publicOf(engine, doc.secret), k.publicKey, 'the secret times the base point is the public key');
      if (engine === 'ed25519') assert.match(doc.what, /not an RFC 8032 seed/);
      if (engine === 'bip340') {
        assert.equal(doc.outputKey, k.publicKey);
        const shown = ok(await tw.kr(['key', 'show', '--json', '--key', k.keyId])).key;
        assert.equal(doc.descriptor, shown.descriptors.rawtr, 'the rawtr() key show prints');
        assert.equal(doc.descriptor, taprootDescriptors(shown.internalKey, k.publicKey).rawtr);
        assert.notEqual(shown.internalKey, doc.outputKey, 'the secret is Q\'s, not P\'s');
      }
      const refusedOpen = spawnSync('age', ['-d', '-i', stranger.file, out], { encoding: 'utf8' });
      assert.notEqual(refusedOpen.status, 0, 'another identity opened it');

      assert.equal(ok(await tw.kr(['key', 'show', '--json', '--key', k.keyId])).key.status, 'compromised');
      const before = snapshot(tw.root);
      const message = engine === 'ed25519' ? ['--message-hex', 'aa'] : ['--message-hex', 'ab'.repeat(32)];
      refused(await tw.kr(['sign', '--json', '--key', k.keyId, '--signer', 'alice', '--signer', 'bob', ...message, ...everyone(tw)]), 1, 'KEY_NOT_ACTIVE', [k.keyId, 'compromised']);
      assert.deepEqual(snapshot(tw.root), before);
      await nodeRefuses(k.keyId, engine);
      assert.ok(ok(await tw.kr(['audit', 'verify', '--json'])).ok);

      // The secret is nowhere but inside the ciphertext: no output, no transcript, no workspace file.
      for (const x of tw.runs) assert.ok(!x.run.stdout.includes(doc.secret) && !x.run.stderr.includes(doc.secret), `output of ${x.args.join(' ')} holds the secret`);
      for (const f of allFiles(tw.root)) assert.ok(!f.bytes.includes(doc.secret) && !f.bytes.includes(Buffer.from(doc.secret, 'hex')), `${f.path} holds the secret`);
      assert.ok(!readFileSync(out).includes(doc.secret));
    });
  }

  test('approvals made on the approvers\' own devices (--approval), for this key, epoch and recipient', async () => {
    const k = await keygen(tw, 'ed25519');
    const me = ageIdentity();
    const head = (await loadState(new Workspace(tw.root))).head!;
    const request = join(tw.base, `request-${n++}.json`);
    writeFileSync(request, JSON.stringify(newRequest({ operation: 'recover-private-key', target: k.keyId, parameters: { epoch: 1, recipient: me.recipient }, head }, new Date(), 3600_000)));
    const files: string[] = [];
    for (const a of ['alice', 'carol']) {
      const f = join(tw.freshDir(a), `${a}.approval.json`);
      ok(await tw.kr(['approve', '--json', '--request', request, '--approver', a, '--out', f, ...tw.passArgs(a)]));
      files.push(f);
    }
    const out = outFile();
    const r = ok(await recover(k.keyId, me.recipient, out, ['--custodians', 'bob,carol', ...files.flatMap((f) => ['--approval', f])]));
    assert.deepEqual(r.approvers, ['alice', 'carol']);
    const doc = JSON.parse(execFileSync('age', ['-d', '-i', me.file, out], { encoding: 'utf8' }));
    assert.equal(publicOf('ed25519', doc.secret), k.publicKey);
    // A second recovery of a compromised key is refused before anything is unlocked.
    await refusedUnchanged((o) => recover(k.keyId, me.recipient, o, ['--custodians', 'bob,carol', ...files.flatMap((f) => ['--approval', f])]), 1, 'KEY_NOT_ACTIVE', [k.keyId, 'compromised']);
    assert.ok(ok(await tw.kr(['audit', 'verify', '--json'])).ok);
  });
});
