import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newIdentity, publicOf } from '../../src/custody/identity.js';
import { addressesOf, type PublicPackage } from '../../src/engine/index.js';
import { apply, CustodyState, prepare, type FoldEntry } from '../../src/state/fold.js';
import type { KeyRecord } from '../../src/state/key-record.js';
import { enrol, member, newRoster, rosterDigest } from '../../src/state/roster.js';
import { identities, runDkg } from '../support/engine.js';

// The fold on its own: each transition it accepts, each it refuses, and that a refusal leaves
// the state exactly as it was (the writer relies on that to refuse before it appends).

const POLICY = { threshold: 2, parties: 3, guardianThreshold: 2, guardians: 3, approvals: 2 };

function entry(step: string, o: Partial<FoldEntry> = {}): FoldEntry {
  return { ceremony: '0002-test', step, actor: 'gen', params: {}, result: {}, subjects: [], time: new Date().toISOString(), ...o };
}

async function genesis(): Promise<CustodyState> {
  const roster = newRoster(POLICY);
  enrol(roster, publicOf(await newIdentity('gen', 'generator')));
  for (const n of ['node-1', 'node-2', 'node-3']) enrol(roster, publicOf(await newIdentity(n, 'node')));
  const state = new CustodyState();
  apply(state, entry('ceremony.start', { params: { roster } }));
  for (const c of ['alice', 'bob', 'carol']) apply(state, entry('roster.enrol', { actor: c, params: { identity: publicOf(await newIdentity(c, 'custodian')) } }));
  return state;
}

/** A key record for a real ed25519 public package, as keygen.result carries it. */
async function keyRecord(state: CustodyState): Promise<{ record: KeyRecord; pkg: PublicPackage }> {
  const ids = await identities(['node-1', 'node-2', 'node-3']);
  const shares = await runDkg('ed25519', ['node-1', 'node-2', 'node-3'], 2, ids);
  const { party: _p, secret: _s, ...pkg } = Object.values(shares)[0]!;
  const parties = ['node-1', 'node-2', 'node-3'].map((n, i) => {
    const c = member(state.requireRoster(), ['alice', 'bob', 'carol'][i]!);
    return { party: n, node: n, custodian: c.name, recipient: c.recipient, fingerprint: c.fingerprint };
  });
  const record: KeyRecord = { v: 1, keyId: pkg.keyId, label: 'k', engine: 'ed25519', epoch: pkg.epoch, publicKey: pkg.groupPublicKey, threshold: 2, parties, publicPackage: pkg, addresses: addressesOf('ed25519', pkg.groupPublicKey), status: 'active' };
  return { record, pkg };
}

/** The nodes' signed shares of `record`, as a keygen ceremony records them before its keygen.result. */
function nodeShares(state: CustodyState, record: KeyRecord, session = 's1', step = 'keygen.share'): void {
  for (const p of record.parties) {
    apply(state, entry(step, { actor: p.node, params: { keyId: record.keyId, epoch: record.epoch, party: p.party, sessionId: session }, result: { groupPublicKey: record.publicKey, verifyingShare: record.publicPackage.verifyingShares[p.party] } }));
  }
}

/** Stands for the consumed approvals of `operations` in the current ceremony (approvals.test.ts covers how they are consumed). */
function backedBy(state: CustodyState, ...operations: string[]): void {
  state.facts = { ceremony: '0002-test', shares: new Map(), quorums: new Map(operations.map((o) => [o, {}])) };
}

/** A structural snapshot of a state, to show a refusal changed nothing. */
function snapshotOf(s: CustodyState): string {
  return JSON.stringify({ r: s.roster, d: s.rosterDigest, k: [...s.keys], g: [...s.guardianSets], a: [...s.artifacts], rc: [...s.receipts], x: [...s.exports], n: s.entries });
}

function refusedUnchanged(state: CustodyState, e: FoldEntry, code: string): void {
  const before = snapshotOf(state);
  assert.throws(() => prepare(state, e), (err: any) => err.code === code);
  assert.equal(snapshotOf(state), before, `refusing ${e.step} changed the state`);
}

describe('the custody fold', () => {
  test('genesis: the first entry carries the roster; anything else first is refused', async () => {
    const state = await genesis();
    assert.equal(state.requireRoster().version, 0);
    assert.equal(state.rosterDigest, rosterDigest(state.requireRoster()));
    const empty = new CustodyState();
    refusedUnchanged(empty, entry('roster.seal'), 'BAD_GENESIS');
    refusedUnchanged(empty, entry('ceremony.start', { params: { roster: { v: 1, version: 1, members: [], nodes: [] } } }), 'BAD_GENESIS');
  });

  test('a key record: created by keygen.result, advanced one epoch at a time, then retired or compromised', async () => {
    const state = await genesis();
    const { record } = await keyRecord(state);
    refusedUnchanged(state, entry('keygen.result', { result: { record: { ...record, addresses: { solana: 'forged' } } } }), 'DAMAGED_FILE');
    refusedUnchanged(state, entry('keygen.result', { result: { record: { ...record, epoch: 2 } } }), 'DAMAGED_FILE');
    const toGenerator = record.parties.map((p, i) => (i === 0 ? { ...p, custodian: 'gen' } : p));
    refusedUnchanged(state, entry('keygen.result', { result: { record: { ...record, parties: toGenerator } } }), 'WRONG_ROLE');
    // A pin that is not the custodian's own in the roster: bob's recipient under alice's party.
    const swapped = record.parties.map((p, i) => (i === 0 ? { ...p, recipient: record.parties[1]!.recipient } : p));
    refusedUnchanged(state, entry('keygen.result', { result: { record: { ...record, parties: swapped } } }), 'RECIPIENT_MISMATCH');
    const unpinned = record.parties.map(({ recipient: _r, ...p }) => p);
    refusedUnchanged(state, entry('keygen.result', { result: { record: { ...record, parties: unpinned } } }), 'DAMAGED_FILE');
    const twice = record.parties.map((p, i) => (i === 2 ? { ...p, custodian: 'alice', recipient: record.parties[0]!.recipient, fingerprint: record.parties[0]!.fingerprint } : p));
    refusedUnchanged(state, entry('keygen.result', { result: { record: { ...record, parties: twice } } }), 'BAD_CHANGE');
    // The generator alone cannot create a key: every party's node must have signed its share here.
    refusedUnchanged(state, entry('keygen.result', { result: { record } }), 'BAD_CHANGE');
    apply(state, entry('keygen.share', { actor: 'node-1', params: { keyId: record.keyId, epoch: 1, party: 'node-1', sessionId: 's1' }, result: { groupPublicKey: record.publicKey, verifyingShare: record.publicPackage.verifyingShares['node-1'] } }));
    refusedUnchanged(state, entry('keygen.result', { result: { record } }), 'BAD_CHANGE');
    refusedUnchanged(state, entry('keygen.share', { actor: 'node-2', params: { keyId: record.keyId, epoch: 1, party: 'node-3', sessionId: 's1' } }), 'BAD_CHANGE');
    apply(state, entry('keygen.share', { actor: 'node-2', params: { keyId: record.keyId, epoch: 1, party: 'node-2', sessionId: 's1' }, result: { groupPublicKey: record.publicKey, verifyingShare: record.publicPackage.verifyingShares['node-1'] } }));
    apply(state, entry('keygen.share', { actor: 'node-3', params: { keyId: record.keyId, epoch: 1, party: 'node-3', sessionId: 's1' }, result: { groupPublicKey: record.publicKey, verifyingShare: record.publicPackage.verifyingShares['node-3'] } }));
    refusedUnchanged(state, entry('keygen.result', { result: { record } }), 'BAD_CHANGE'); // node-2 signed another share
    refusedUnchanged(state, entry('keygen.result', { ceremony: '0003-other', result: { record } }), 'BAD_CHANGE'); // shares of another ceremony
    const fresh = await genesis();
    const { record: created } = await keyRecord(fresh);
    nodeShares(fresh, created);
    apply(fresh, entry('keygen.result', { result: { record: created } }));
    assert.deepEqual(fresh.key(created.keyId), created);
    await epochsAndEnds(fresh, created);
  });

  async function epochsAndEnds(state: CustodyState, record: KeyRecord): Promise<void> {
    refusedUnchanged(state, entry('keygen.result', { result: { record } }), 'BAD_CHANGE');
    const next = { ...record, epoch: 2, publicPackage: { ...record.publicPackage, epoch: 2 } };
    // An epoch change, a retirement, an emergency recovery: each only with its quorum consumed in its own ceremony.
    refusedUnchanged(state, entry('refresh.result', { result: { record: next } }), 'QUORUM_NOT_MET');
    refusedUnchanged(state, entry('key.retire', { params: { keyId: record.keyId } }), 'QUORUM_NOT_MET');
    refusedUnchanged(state, entry('recover.result', { params: { keyId: record.keyId, kind: 'private-key' } }), 'QUORUM_NOT_MET');
    refusedUnchanged(state, entry('recover.result', { params: { target: 'alice' } }), 'QUORUM_NOT_MET');
    backedBy(state, 'refresh');
    refusedUnchanged(state, entry('reshare.result', { result: { record: next } }), 'QUORUM_NOT_MET');
    refusedUnchanged(state, entry('refresh.result', { ceremony: '0003-other', result: { record: next } }), 'QUORUM_NOT_MET');
    backedBy(state, 'refresh', 'key-retire', 'reshare', 'recover-private-key');
    refusedUnchanged(state, entry('refresh.result', { result: { record: { ...next, epoch: 3, publicPackage: { ...record.publicPackage, epoch: 3 } } } }), 'BAD_CHANGE');
    nodeShares(state, next, 's2', 'refresh.share'); // every node's signed share of the new epoch backs it too
    apply(state, entry('refresh.result', { result: { record: next } }));
    assert.equal(state.key(record.keyId).epoch, 2);
    apply(state, entry('key.retire', { params: { keyId: record.keyId } }));
    assert.equal(state.key(record.keyId).status, 'retired');
    refusedUnchanged(state, entry('key.retire', { params: { keyId: record.keyId } }), 'BAD_CHANGE');
    refusedUnchanged(state, entry('reshare.result', { result: { record: { ...next, epoch: 3, publicPackage: { ...record.publicPackage, epoch: 3 } } } }), 'BAD_CHANGE');
    apply(state, entry('recover.result', { params: { keyId: record.keyId, kind: 'private-key' } }));
    assert.equal(state.key(record.keyId).status, 'compromised');
    refusedUnchanged(state, entry('recover.result', { params: { keyId: record.keyId, kind: 'private-key' } }), 'BAD_CHANGE');
  }

  test('a receipt: only from the party\'s custodian, for the shard its node exported, with the party\'s verifying share', async () => {
    const state = await genesis();
    const { record } = await keyRecord(state);
    nodeShares(state, record);
    apply(state, entry('keygen.result', { result: { record } }));
    const shard = 'a'.repeat(64);
    const name = `keyrite:shard/alice/${record.keyId}/e1`;
    const params = { keyId: record.keyId, epoch: 1, party: 'node-1', node: 'node-1', custodian: 'alice', shard };
    const result = { verifyingShare: record.publicPackage.verifyingShares['node-1'] };
    const receipt = (o: Partial<FoldEntry>) => entry('export.receipt', { actor: 'alice', params, result, ...o });
    refusedUnchanged(state, receipt({}), 'BAD_CHANGE'); // nothing exported yet
    apply(state, entry('export.shard', { actor: 'node-1', params: { keyId: record.keyId, epoch: 1, party: 'node-1', node: 'node-1', custodian: 'alice', recipient: record.parties[0]!.recipient }, subjects: [{ name, sha256: shard }], artifacts: { creates: ['shard'] } }));
    refusedUnchanged(state, receipt({ actor: 'bob' }), 'BAD_CHANGE');
    refusedUnchanged(state, receipt({ actor: 'bob', params: { ...params, custodian: 'bob' } }), 'BAD_CHANGE');
    refusedUnchanged(state, receipt({ params: { ...params, shard: 'b'.repeat(64) } }), 'BAD_CHANGE');
    refusedUnchanged(state, receipt({ result: { verifyingShare: record.publicPackage.verifyingShares['node-2'] } }), 'BAD_CHANGE');
    refusedUnchanged(state, receipt({ params: { ...params, epoch: 2 } }), 'BAD_CHANGE');
    assert.equal(state.receipt(record.keyId, 1, 'node-1'), undefined);
    apply(state, receipt({}));
    assert.deepEqual(state.receipt(record.keyId, 1, 'node-1'), { keyId: record.keyId, epoch: 1, party: 'node-1', custodian: 'alice', shard, ceremony: '0002-test' });
  });

  // Approvals have their own suite: test/state/approvals.test.ts.

  test('guardian sets: the current set per custodian, and which custodian each guardian serves', async () => {
    const state = await genesis();
    refusedUnchanged(state, entry('custodian.setup', { params: { custodian: 'gen', setId: 's0', k: 2, m: 3, guardians: ['g1', 'g2', 'g3'] } }), 'BAD_CHANGE');
    // Only the custodian records their own set.
    refusedUnchanged(state, entry('custodian.setup', { params: { custodian: 'alice', setId: 's1', k: 2, m: 3, guardians: ['g1', 'g2', 'g3'] } }), 'BAD_CHANGE');
    apply(state, entry('custodian.setup', { actor: 'alice', params: { custodian: 'alice', setId: 's1', k: 2, m: 3, guardians: ['g1', 'g2', 'g3'] } }));
    assert.equal(state.servedBy().get('g2'), 'alice');
    refusedUnchanged(state, entry('custodian.setup', { actor: 'bob', params: { custodian: 'bob', setId: 's2', k: 2, m: 3, guardians: ['g4'] } }), 'BAD_CHANGE');
  });

  test('artifacts: a step names only the kinds its script declares, and only a replacing step changes a digest', async () => {
    const state = await genesis();
    const K = 'keys/k0123456789abcdef.json';
    const d = (c: string) => c.repeat(64);
    const named = (step: string, name: string, sha256: string, artifacts?: FoldEntry['artifacts'], ceremony = '0003-test') =>
      entry(step, { ceremony, subjects: [{ name, sha256 }], ...(artifacts ? { artifacts } : {}) });
    // Steps of no custody transition, so only the artifact rule is at work.
    // Nothing declared: no artifact at all; a name of no kind, whatever is declared.
    refusedUnchanged(state, named('drill.result', K, d('1')), 'ARTIFACT_NOT_ALLOWED');
    refusedUnchanged(state, named('test.create', '../outside.json', d('1'), { creates: ['key-record'] }), 'ARTIFACT_NOT_ALLOWED');
    refusedUnchanged(state, named('test.create', 'holdings/g1/g1.share-of-alice.json', d('1'), { creates: ['guardian-share'] }), 'ARTIFACT_NOT_ALLOWED');
    // Checking or replacing is no creating.
    refusedUnchanged(state, named('drill.result', K, d('1'), { checks: ['key-record'], replaces: ['key-record'] }), 'ARTIFACT_NOT_ALLOWED');
    apply(state, named('test.create', K, d('1'), { creates: ['key-record'] }, '0002-create'));
    // A step that declares another kind, or only checks, may not give it a new digest; the same digest is a check.
    refusedUnchanged(state, named('drill.result', K, d('2'), { checks: ['shard'] }), 'ARTIFACT_NOT_ALLOWED');
    refusedUnchanged(state, named('drill.result', K, d('2'), { checks: ['key-record'] }), 'ARTIFACT_NOT_ALLOWED');
    refusedUnchanged(state, named('test.create', K, d('2'), { creates: ['key-record'] }), 'ARTIFACT_NOT_ALLOWED');
    refusedUnchanged(state, entry('test.replace', { subjects: [{ name: K, sha256: d('2') }, { name: K, sha256: d('3') }], artifacts: { replaces: ['key-record'] } }), 'ARTIFACT_NOT_ALLOWED');
    apply(state, named('drill.result', K, d('1'), { checks: ['key-record'] }));
    assert.deepEqual(state.artifacts.get(K), { sha256: d('1'), ceremony: '0002-create', step: 'test.create' }, 'a check keeps the step that set the digest');
    apply(state, named('test.replace', K, d('2'), { replaces: ['key-record'] }, '0004-replace'));
    assert.deepEqual(state.artifacts.get(K), { sha256: d('2'), ceremony: '0004-replace', step: 'test.replace' });
    assert.equal(state.entries, 7, 'only the accepted entries are counted');
  });

  test('artifact names: each kind has one spelling, and carried-away files are named by role', async () => {
    const { artifactOf, shardRoleName, shareRoleName } = await import('../../src/state/artifacts.js');
    const setId = 'ab'.repeat(16);
    assert.deepEqual(artifactOf('keys/k0123456789abcdef.json'), { kind: 'key-record', keyId: 'k0123456789abcdef' });
    assert.deepEqual(artifactOf('identities/alice.pub.json'), { kind: 'public-identity', name: 'alice' });
    assert.deepEqual(artifactOf('guardians/alice/set.json'), { kind: 'guardian-set', custodian: 'alice' });
    assert.deepEqual(artifactOf(shareRoleName('g1', setId)), { kind: 'guardian-share', guardian: 'g1', setId });
    assert.deepEqual(artifactOf(shardRoleName('bob', 'k0123456789abcdef', 2)), { kind: 'shard', custodian: 'bob', keyId: 'k0123456789abcdef', epoch: 2 });
    for (const bad of ['keyrite:roster', '../keys/k0123456789abcdef.json', '/etc/passwd', 'keys/K.json', 'keyrite:share/g1/../x', `keyrite:share/G1/${setId}`, 'keyrite:shard/bob/k0123456789abcdef/e0', 'holdings/g1/g1.share-of-alice.json', 'g1.release-0123456789abcdef.json']) {
      assert.equal(artifactOf(bad), undefined, bad);
    }
  });
});

describe('roster policy', () => {
  test('a policy change that leaves out a field, or adds one, is refused', async () => {
    const { checkPolicy } = await import('../../src/state/policy.js');
    const { approvals: _a, ...noApprovals } = POLICY;
    assert.throws(() => checkPolicy(noApprovals as typeof POLICY), (e: any) => e.code === 'BAD_POLICY' && /approvals/.test(e.message));
    assert.throws(() => checkPolicy({ ...POLICY, quorum: 1 } as typeof POLICY), (e: any) => e.code === 'BAD_POLICY' && /quorum/.test(e.message));
    assert.deepEqual(checkPolicy({ ...POLICY }), POLICY);
  });
});
