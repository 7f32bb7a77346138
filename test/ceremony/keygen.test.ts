import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { sha256Hex } from '../../src/base/canonical.js';
import { assertNowhere, CUSTODIANS, everyone, keygen, lifecycleWorkspace, nodeShareFiles, readShard, shardFile, steps } from '../support/lifecycle.js';
import { keyrite } from '../support/cli.js';
import { ok, readJsonFile, refused, watch, type TestWorkspace } from '../support/workspace.js';

// keygen, export, shard check and key list/show through the real CLI, with the on-disk checks
// that back the nodes' claims: no plaintext share anywhere, nothing left after deletion.

describe('keygen with export and deletion', () => {
  let tw: TestWorkspace;
  let k: any;
  before(async () => {
    tw = await lifecycleWorkspace();
    k = await keygen(tw, 'ed25519');
  });

  test('reports the key, its parties and its shards', () => {
    assert.match(k.keyId, /^k[0-9a-f]{16}$/);
    assert.equal(k.engine, 'ed25519');
    assert.match(k.publicKey, /^[0-9a-f]{64}$/);
    assert.equal(k.threshold, 2);
    assert.equal(k.epoch, 1);
    const roster = readJsonFile(join(tw.root, 'roster.json'));
    const pin = (c: string) => {
      const m = roster.members.find((x: any) => x.name === c);
      return { recipient: m.recipient, fingerprint: m.fingerprint };
    };
    assert.deepEqual(k.parties, CUSTODIANS.map((c, i) => ({ party: `node-${i + 1}`, node: `node-${i + 1}`, custodian: c, ...pin(c) })), 'each party pins its custodian\'s recipient and fingerprint');
    assert.equal(k.nodesEmpty, true);
    assert.deepEqual(k.shards.map((s: any) => s.custodian), CUSTODIANS);
    for (const s of k.shards) {
      assert.equal(s.path, shardFile(tw, s.custodian, k.keyId));
      assert.equal(sha256Hex(readFileSync(s.path)), s.sha256);
      assert.equal(statSync(s.path).mode & 0o777, 0o600);
    }
  });

  test('writes the key record with the party → custodian assignment', () => {
    const r = readJsonFile(join(tw.root, 'keys', `${k.keyId}.json`));
    assert.equal(r.v, 1);
    assert.equal(r.status, 'active');
    assert.equal(r.publicKey, k.publicKey);
    assert.deepEqual(r.parties, k.parties);
    assert.equal(r.publicPackage.groupPublicKey, k.publicKey);
    assert.ok(r.addresses.solana);
  });

  test('leaves the nodes empty and records deletion, then attestation, then a witnessed seal', () => {
    assert.deepEqual(nodeShareFiles(tw), []);
    const s = steps(tw, k.ceremony);
    const names = s.map((x) => x.step).filter((x) => x !== 'checklist.confirm');
    assert.deepEqual(names, [
      'ceremony.start', 'keygen.share', 'keygen.share', 'keygen.share', 'keygen.result', 'export.intent', 'export.shard', 'export.shard', 'export.shard',
      'export.receipt', 'export.receipt', 'export.receipt', 'node.delete', 'node.delete', 'node.delete', 'node.attest', 'node.attest', 'node.attest', 'export.result', 'ceremony.seal',
    ]);
    const exported = s.find((x) => x.step === 'export.result')!;
    assert.equal(exported.actor, tw.generator);
    assert.deepEqual(exported.result, { shards: k.shards.map((x: any) => ({ custodian: x.custodian, sha256: x.sha256 })), nodesEmpty: true, deleted: k.parties.map((p: any) => p.party), kept: [] });
    for (const [i, r] of s.filter((x) => x.step === 'export.receipt').entries()) {
      assert.equal(r.actor, CUSTODIANS[i], 'each receipt is signed by the party\'s own custodian');
      assert.equal(r.params.shard, k.shards[i].sha256);
      assert.equal(r.result.verifyingShare, readJsonFile(join(tw.root, 'keys', `${k.keyId}.json`)).publicPackage.verifyingShares[`node-${i + 1}`]);
    }
    const result = s.find((x) => x.step === 'keygen.result')!;
    assert.equal(result.actor, tw.generator);
    assert.deepEqual(result.params.custodians, CUSTODIANS);
    assert.equal(result.result.keyId, k.keyId);
    for (const a of s.filter((x) => x.step === 'node.attest')) assert.deepEqual(a.result.holds, []);
    for (const e of s.filter((x) => x.step === 'export.shard')) assert.match(e.actor, /^node-\d$/);
    assert.equal(s.at(-1)!.signatures, 2, 'the seal is co-signed by the witness');
  });

  test('no share secret is on disk in the clear or in any output', async () => {
    const secrets = await Promise.all(CUSTODIANS.map(async (c) => (await readShard(tw, c, shardFile(tw, c, k.keyId))).share.secret));
    assertNowhere(tw, secrets);
  });

  test('shard check opens the shard, matches it to the record and changes nothing', async () => {
    const unchanged = watch(tw.root);
    const r = ok(await tw.kr(['shard', 'check', '--json', '--key', k.keyId, '--custodian', 'bob', ...tw.passArgs('bob')]));
    assert.equal(r.party, 'node-2');
    assert.equal(r.sha256, k.shards[1].sha256);
    unchanged();
    assert.ok(steps(tw, r.ceremony).some((x) => x.step === 'drill.result' && x.actor === 'bob'));
  });

  test('shard check of a shard kept outside the workspace names it by role, and the evidence still verifies', async () => {
    const medium = join(tw.freshDir('carol-medium'), 'carol.shard.age');
    copyFileSync(shardFile(tw, 'carol', k.keyId), medium);
    const r = ok(await tw.kr(['shard', 'check', '--json', '--key', k.keyId, '--custodian', 'carol', '--shard', `carol=${medium}`, ...tw.passArgs('carol')]));
    const statements = readFileSync(join(tw.root, 'transcripts', `${r.ceremony}.jsonl`), 'utf8').trim().split('\n')
      .map((l) => JSON.parse(Buffer.from(JSON.parse(l).payload, 'base64').toString('utf8')));
    const drill = statements.find((x) => x.predicate.step === 'drill.result')!;
    assert.deepEqual(drill.subject, [{ name: `keyrite:shard/carol/${k.keyId}/e1`, digest: { sha256: sha256Hex(readFileSync(medium)) } }]);
    assert.ok(!JSON.stringify(statements).includes(medium), 'the local path is in no entry');
    ok(await tw.kr(['audit', 'verify', '--json']), 'audit verify after a drill on an outside medium');
  });

  test('shard check refuses another custodian\'s shard', async () => {
    const r = await tw.kr(['shard', 'check', '--json', '--key', k.keyId, '--custodian', 'bob', '--shard', `bob=${shardFile(tw, 'alice', k.keyId)}`, ...tw.passArgs('bob')]);
    refused(r, 1, 'NOT_FOR_THIS_IDENTITY');
  });

  test('a second export finds nothing to export', async () => {
    refused(await tw.kr(['export', '--json', '--key', k.keyId, ...everyone(tw)]), 1, 'NOT_HELD', ['node-1']);
  });
});

describe('keygen without export, then export', () => {
  let tw: TestWorkspace;
  let k: any;
  before(async () => {
    tw = await lifecycleWorkspace();
    k = await keygen(tw, 'bip340', []);
  });

  test('each node holds its share at rest, in a 0600 file of its own home', () => {
    assert.equal(k.shards, undefined);
    const files = nodeShareFiles(tw);
    assert.deepEqual(files.map((f) => f.split('/').slice(-3).join('/')).sort(), [1, 2, 3].map((n) => `node-${n}/shares/${k.keyId}.1.age`));
    for (const f of files) assert.equal(statSync(f).mode & 0o777, 0o600);
  });

  test('key list and key show give id, engine, epoch, status, public key, P2TR address and custodians', async () => {
    const list = ok(await tw.kr(['key', 'list', '--json']));
    assert.equal(list.keys.length, 1);
    const shown = ok(await tw.kr(['key', 'show', '--json', '--key', k.keyId])).key;
    assert.deepEqual(list.keys[0], shown);
    assert.equal(shown.engine, 'bip340');
    assert.equal(shown.epoch, 1);
    assert.equal(shown.status, 'active');
    assert.equal(shown.publicKey, k.publicKey);
    assert.match(shown.addresses.p2tr, /^bc1p[02-9ac-hj-np-z]{58}$/);
    assert.deepEqual(shown.custodians, CUSTODIANS);
  });

  test('export asks for confirmation: without a terminal and without --yes, nothing happens', async () => {
    const unchanged = watch(tw.root);
    const r = await keyrite(['--workspace', tw.root, 'export', '--json', '--key', k.keyId, '--delete-after-export', ...everyone(tw)]);
    refused(r, 2, 'NOT_CONFIRMED', ['--yes']);
    unchanged();
  });

  test('export with deletion writes the shards, then empties the nodes', async () => {
    const r = ok(await tw.kr(['export', '--json', '--key', k.keyId, '--delete-after-export', ...everyone(tw)]));
    assert.equal(r.nodesEmpty, true);
    assert.deepEqual(r.shards.map((s: any) => s.custodian), CUSTODIANS);
    assert.deepEqual(nodeShareFiles(tw), []);
    const s = steps(tw, r.ceremony).map((x) => x.step);
    assert.ok(s.lastIndexOf('export.shard') < s.indexOf('node.delete'), 'every shard is recorded before any deletion');
    assert.ok(s.lastIndexOf('node.delete') < s.indexOf('node.attest'));
    assert.ok(s.lastIndexOf('node.attest') < s.indexOf('export.result'), 'the result is recorded after the act');
    const shard = await readShard(tw, 'carol', shardFile(tw, 'carol', k.keyId));
    assert.equal(shard.party, 'node-3');
    assert.equal(shard.share.keyId, k.keyId);
  });
});

test('keygen needs a sealed roster', async () => {
  const tw = await lifecycleWorkspace({ open: true });
  const unchanged = watch(tw.root);
  refused(await tw.kr(['keygen', '--json', '--engine', 'ed25519', '--custodians', CUSTODIANS.join(','), '--label', 'x', ...everyone(tw)]), 1, 'ROSTER_NOT_SEALED');
  unchanged();
});

test('keygen and export take the generator\'s identity file from --identity generator=PATH', async () => {
  const tw = await lifecycleWorkspace();
  const elsewhere = join(tw.freshDir('generator-medium'), 'gen.identity.age');
  renameSync(tw.identityFile(tw.generator), elsewhere);
  const unchanged = watch(tw.root);
  refused(await tw.kr(['keygen', '--json', '--engine', 'ed25519', '--custodians', CUSTODIANS.join(','), '--label', 'moved', ...everyone(tw)]), 1, 'NOT_FOUND', [tw.generator]);
  unchanged();
  const k = ok(await tw.kr(['keygen', '--json', '--engine', 'ed25519', '--custodians', CUSTODIANS.join(','), '--label', 'moved', '--identity', `${tw.generator}=${elsewhere}`, ...everyone(tw)]));
  const r = ok(await tw.kr(['export', '--json', '--key', k.keyId, '--identity', `${tw.generator}=${elsewhere}`, ...everyone(tw)]));
  assert.equal(r.nodesEmpty, false);
  assert.equal(steps(tw, r.ceremony).at(-2)!.step, 'export.result');
});
