import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadState } from '../../src/audit/state.js';
import { publicOf, unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { openShard, shardRoleName } from '../../src/custody/shard.js';
import { Workspace } from '../../src/fs/workspace.js';
import { member } from '../../src/state/roster.js';
import { crashTable, exportedAndDeleted, finishExport, movedAside, neverNeither, owedAttestations, type CrashCase, type Crashed } from '../support/crash.js';
import { independentVerify } from '../support/engine.js';
import { CUSTODIANS, everyone, keygen, lifecycleWorkspace, shardFile } from '../support/lifecycle.js';
import { makeWorkspace, ok, refused, type TestWorkspace } from '../support/workspace.js';

// docs/ARCHITECTURE.md §8 for the epoch changes (issue 10, crash safety): refresh, reshare and
// repair killed by SIGKILL at every step boundary of a successful run (test/support/crash.ts).
// Until the result is on record the old epoch stands, every party with its receipted shard;
// after it, every party of the new epoch has its node's share or a complete, receipted shard.
// Re-running the command (before the result) or the export (after it) finishes the job, the key
// still signs, and audit verify passes and names the interruption. A rotation (no epoch change)
// keeps every party's shard openable by an identity its custodian still holds, old or new, at
// every boundary; re-running rotate finishes it, and the custodian signs with the new identity.

const exportArgs = (tw: TestWorkspace, keyId: string): string[] => ['export', '--json', '--key', keyId, '--delete-after-export', ...everyone(tw)];
const epochNow = async (tw: TestWorkspace, keyId: string): Promise<number> => (await loadState(new Workspace(tw.root))).key(keyId).epoch;
const recorded = (c: Crashed, step: string): boolean => c.entries.some((e) => e.step === step);
const signArgs = (tw: TestWorkspace, keyId: string): string[] => ['sign', '--json', '--key', keyId, '--signer', 'alice', '--signer', 'bob', '--message-hex', 'c0ffee', ...everyone(tw)];

/** A row for an operation that moves `key` to epoch 2 with `step` as its result. */
function epochRow(name: string, result: string, command: (tw: TestWorkspace, keyId: string) => string[]): CrashCase {
  let keyId = '';
  const row: CrashCase = {
    name,
    async setup() {
      const tw = await lifecycleWorkspace();
      keyId = (await keygen(tw, 'ed25519')).keyId;
      return tw;
    },
    command: (tw) => command(tw, keyId),
    async invariants(c) {
      assert.equal(await epochNow(c.tw, keyId), recorded(c, result) ? 2 : 1, `the key moves to epoch 2 exactly with ${result}`);
      await neverNeither(c.tw, keyId);
      // Until the result is on record the old epoch stands: its shards still sign, whatever the nodes kept of the run.
      if (!recorded(c, result)) ok(await c.tw.kr(signArgs(c.tw, keyId)), 'the old epoch signs after the crash');
    },
    // Before the result the old epoch stands: the operation runs again; after it the export finishes.
    finish: async (c) => (recorded(c, result) ? finishExport(c, keyId, exportArgs(c.tw, keyId)) : command(c.tw, keyId)),
    async after(c, finished, interruption) {
      if (recorded(c, result)) {
        owedAttestations(c, interruption);
        movedAside(c, finished);
      }
      assert.equal(await epochNow(c.tw, keyId), 2);
      await exportedAndDeleted(c.tw, keyId);
      ok(await c.tw.kr(signArgs(c.tw, keyId)), 'sign after the crash');
    },
  };
  return row;
}

const refresh = epochRow('refresh', 'refresh.result', (tw, keyId) => ['refresh', '--json', '--key', keyId, '--approvers', 'bob,carol', ...everyone(tw)]);
const reshare = epochRow('reshare', 'reshare.result', (tw, keyId) => ['reshare', '--json', '--key', keyId, '--custodians', 'alice,bob', '--threshold', '2', '--dealers', 'bob,carol', '--approvers', 'bob,carol', ...everyone(tw)]);

let repairKey = '';
const repairArgs = (tw: TestWorkspace): string[] => ['repair', '--json', '--key', repairKey, '--custodian', 'alice', '--helpers', 'bob,carol', '--approvers', 'bob,carol', ...everyone(tw)];
const repair: CrashCase = {
  name: 'repair',
  async setup() {
    const tw = await lifecycleWorkspace();
    repairKey = (await keygen(tw, 'ed25519')).keyId;
    rmSync(shardFile(tw, 'alice', repairKey)); // lost
    return tw;
  },
  command: repairArgs,
  // Before repair.share alice's party is as lost as it was; after it her node holds the share again.
  invariants: async (c) => void (await neverNeither(c.tw, repairKey, recorded(c, 'repair.share') ? {} : { except: 'alice' })),
  finish: async (c) => (recorded(c, 'repair.share') ? finishExport(c, repairKey, exportArgs(c.tw, repairKey)) : repairArgs(c.tw)),
  async after(c, finished, interruption) {
    if (recorded(c, 'repair.share')) {
      owedAttestations(c, interruption);
      movedAside(c, finished);
    }
    assert.equal(await epochNow(c.tw, repairKey), 1, 'a repair changes no epoch');
    await exportedAndDeleted(c.tw, repairKey);
    ok(await c.tw.kr(signArgs(c.tw, repairKey)), 'alice signs after the repair');
  },
};

// rotate: alice's identity, one key, her shard re-wrapped; bob and carol approve in the room.
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
let rotateKey = '';
let newPass = ''; // alice's new passphrase file, shared by every copy of the workspace
const rotateArgs = (tw: TestWorkspace): string[] => ['rotate', '--json', '--custodian', 'alice', '--new-passphrase-file', newPass, '--approvers', 'bob,carol', ...everyone(tw)];

/** Every file under alice's holdings whose name is `base`: in place, staged (rotating-…) or retired (retired-…). */
function aliceFiles(tw: TestWorkspace, base: string): string[] {
  const home = tw.holdings('alice');
  const dirs = [home, ...readdirSync(home).filter((d) => /^(rotating|retired)-/.test(d)).map((d) => join(home, d))];
  return dirs.map((d) => join(d, base)).filter((f) => existsSync(f));
}

/** Every identity of alice's that a file under her holdings holds and one of her passphrases (old, new) opens, by fingerprint. */
async function aliceIdentities(tw: TestWorkspace): Promise<Map<string, Identity>> {
  const held = new Map<string, Identity>();
  for (const f of aliceFiles(tw, 'alice.identity.age')) {
    for (const pass of [tw.passphrases.alice!, readFileSync(newPass, 'utf8').trimEnd()]) {
      const id = await unlockIdentity(readFileSync(f), pass, 'alice').catch(() => undefined);
      if (id) held.set(publicOf(id).fingerprint, id);
    }
  }
  return held;
}

/**
 * Never neither, for a rotation: bob's and carol's receipted shards as after any export, and for
 * alice the shard on record (receipted, or recorded by rotate.shard), complete, wherever the
 * rotation has it, opening with the identity the key record pins for her party, whose file she
 * still holds; and the identity the roster holds for her is one she holds.
 */
async function aliceCanOpen(tw: TestWorkspace): Promise<void> {
  const state = await neverNeither(tw, rotateKey, { except: 'alice' });
  const p = state.key(rotateKey).parties.find((x) => x.custodian === 'alice')!;
  const ids = await aliceIdentities(tw);
  assert.ok(ids.has(member(state.requireRoster(), 'alice', 'custodian').fingerprint), 'the identity the roster holds for alice is in a file she holds');
  const id = ids.get(p.fingerprint) ?? assert.fail(`no identity file alice holds is the one her party is pinned to (${p.fingerprint})`);
  const recorded = state.artifacts.get(shardRoleName('alice', rotateKey, 1))!.sha256;
  const file = aliceFiles(tw, `alice.${rotateKey}.e1.shard.age`).find((f) => sha256(readFileSync(f)) === recorded) ?? assert.fail('alice holds no complete shard with the digest on record');
  assert.equal((await openShard(readFileSync(file), id.ageIdentity, file)).party, p.party, `the identity her party is pinned to opens ${file}`);
}

const rotate: CrashCase = {
  name: 'rotate',
  async setup() {
    const tw = await makeWorkspace({ guardians: { alice: ['g1', 'g2', 'g3'], bob: [], carol: [] }, m: 3, setup: false });
    ok(await tw.kr(['custodian', 'setup', '--json', '--custodian', 'alice', '--guardians', 'g1,g2,g3', '--threshold', '2', ...tw.passArgs('alice')]), 'custodian setup alice');
    rotateKey = (await keygen(tw, 'ed25519')).keyId;
    newPass = tw.extraPassphrase('alice', 'rotated');
    return tw;
  },
  command: rotateArgs,
  async invariants(c) {
    await aliceCanOpen(c.tw);
    if (!recorded(c, 'roster.change') || recorded(c, 'rotate.result')) return;
    // Re-keyed and not finished: alice's shards wait, and so does any other rotation, each saying what finishes it.
    refused(await c.tw.kr(['rotate', '--json', '--custodian', 'bob', '--new-passphrase-file', newPass, '--approvers', 'alice,carol', ...everyone(c.tw)]), 1, 'ROTATION_REQUIRED', ['alice', c.ceremony, 'before rotating bob']);
    const s = refused(await c.tw.kr(rotateSign(c.tw)), 1, 'ROTATION_REQUIRED', ['alice', c.ceremony, 'rotating alice again finishes it']);
    assert.match(s.error.hint, /keyrite rotate --custodian NAME/);
  },
  // Once rotate.result is recorded the rotation is done and any command records the interruption; before, rotate again finishes it.
  finish: async (c) => (c.closed ? null : recorded(c, 'rotate.result') ? rotateSign(c.tw) : rotateArgs(c.tw)),
  async after(c, finished) {
    const state = await loadState(new Workspace(c.tw.root));
    assert.equal(state.rotationDue.has('alice'), false, 'alice\'s rotation is finished');
    const fingerprint = member(state.requireRoster(), 'alice', 'custodian').fingerprint;
    assert.notEqual(fingerprint, c.entries.find((e) => e.step === 'rotate.intent')?.params.from ?? '', 'alice holds a new identity');
    assert.equal(state.key(rotateKey).parties.find((p) => p.custodian === 'alice')!.fingerprint, fingerprint, 'her party is pinned to it');
    const staged = join(c.tw.holdings('alice'), `rotating-${fingerprint.slice(0, 16)}`);
    assert.deepEqual(existsSync(staged) ? readdirSync(staged).filter((f) => !f.endsWith('.unrecorded')) : [], [], 'nothing is left staged but files set aside');
    await aliceCanOpen(c.tw);
    if (recorded(c, 'roster.change') && !recorded(c, 'rotate.result')) assert.equal(finished!.json.resumed, c.ceremony, 'the re-run finishes the rotation cut short');
    if (c.boundary === 'shard-file#1') assert.deepEqual(finished!.json.setAside, [`holdings/alice/rotating-${fingerprint.slice(0, 16)}/alice.${rotateKey}.e1.shard.age.unrecorded`]);
    const s = ok(await c.tw.kr(rotateSign(c.tw)), 'alice signs with her new identity');
    assert.ok(independentVerify('ed25519', s.publicKey, Buffer.from('c0ffee', 'hex'), s.signature), 'node:crypto verifies the signature');
  },
};
const rotateSign = (tw: TestWorkspace): string[] => ['sign', '--json', '--key', rotateKey, '--signer', 'alice', '--signer', 'bob', '--message-hex', 'c0ffee', ...tw.passArgs(tw.generator, tw.witness, ...CUSTODIANS.filter((x) => x !== 'alice')), '--passphrase-file', `alice=${newPass}`];

const TABLE: CrashCase[] = [refresh, reshare, repair, rotate];

for (const row of TABLE) test(`${row.name}: killed at every step boundary`, { concurrency: 2 }, (t) => crashTable(t, row));
