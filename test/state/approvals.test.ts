import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newIdentity, publicOf, type Identity } from '../../src/custody/identity.js';
import { newRequest, requestDigest, signApproval, type ApprovalRequest } from '../../src/state/approval-request.js';
import { apply, CustodyState, prepare, type FoldEntry } from '../../src/state/fold.js';
import { enrol, newRoster, rosterDigest } from '../../src/state/roster.js';

// The fold's approval rules (src/state/approvals.ts), entry by entry, with approvals signed by
// the project's own code: bound to the request's digest, its head, its expiry and its
// parameters; counted only for custodians of the roster in force who are not the target or
// the one a change removes; each once. A refusal leaves the ledger as it was: the same
// approval, given rightly afterwards, still counts.

const POLICY = { threshold: 2, parties: 3, guardianThreshold: 2, guardians: 3, approvals: 2 };
const HEAD = 'a'.repeat(64);
const HOUR = 3600_000;

interface World {
  state: CustodyState;
  people: Record<string, Identity>;
}

async function world(): Promise<World> {
  const people: Record<string, Identity> = {};
  for (const [n, r] of [['gen', 'generator'], ['alice', 'custodian'], ['bob', 'custodian'], ['carol', 'custodian'], ['dave', 'custodian']] as const) people[n] = await newIdentity(n, r);
  const roster = newRoster(POLICY);
  enrol(roster, publicOf(people.gen!));
  const state = new CustodyState();
  apply(state, entry('ceremony.start', { params: { roster } }));
  for (const n of ['alice', 'bob', 'carol', 'dave']) apply(state, entry('roster.enrol', { actor: n, params: { identity: publicOf(people[n]!) } }));
  apply(state, entry('roster.seal', { params: { roster: rosterDigest({ ...state.requireRoster(), version: 1 }) } }));
  state.chained(HEAD);
  return { state, people };
}

function entry(step: string, o: Partial<FoldEntry> = {}): FoldEntry {
  return { ceremony: '0003-test', step, actor: 'gen', params: {}, result: {}, subjects: [], time: new Date().toISOString(), ...o };
}

const request = (o: Partial<ApprovalRequest> = {}, ttl = HOUR): ApprovalRequest => ({
  ...newRequest({ operation: 'recover-custodian', target: 'alice', parameters: { setId: 's1' }, head: HEAD }, new Date(), ttl),
  ...o,
});

/** The approval entry of `who` for `r`, signed with `key` (their own unless given). */
function approval(w: World, who: string, r: ApprovalRequest, o: { key?: Identity; time?: string } = {}): FoldEntry {
  const a = signApproval(r, publicOf(w.people[who]!), (o.key ?? w.people[who]!).signing, new Date());
  return entry('approval', { actor: who, params: { approval: a }, ...(o.time ? { time: o.time } : {}) });
}

/** The act that consumes approvals of recover-custodian under the policy's quorum. */
function act(r: ApprovalRequest | string, params: Record<string, unknown> = {}, time?: string): FoldEntry {
  const digest = typeof r === 'string' ? r : requestDigest(r);
  return entry('recover.intent', { params: { target: 'alice', setId: 's1', request: digest, ...params }, consumes: { operation: 'recover-custodian', count: 'policy' }, ...(time ? { time } : {}) });
}

function refused(state: CustodyState, e: FoldEntry, code: string, mention: RegExp): void {
  assert.throws(() => prepare(state, e), (err: any) => err.code === code && mention.test(err.message), `${e.step} should be refused with ${code} ${mention}`);
}

describe('approvals in the fold', () => {
  test('the quorum of the exact request is counted and consumed by the act that names it', async () => {
    const w = await world();
    const r = request();
    apply(w.state, approval(w, 'bob', r));
    refused(w.state, act(r), 'QUORUM_NOT_MET', /needs 2 approvals for recover-custodian of alice; found 1 \(bob\)/);
    apply(w.state, approval(w, 'carol', r));
    apply(w.state, act(r));
    refused(w.state, act(r), 'APPROVAL_USED', /already consumed/);
    refused(w.state, approval(w, 'dave', r), 'APPROVAL_USED', /already consumed/);
  });

  test('a swapped request: another digest, another operation, target or parameter does not count', async () => {
    const w = await world();
    const r = request();
    for (const n of ['bob', 'carol']) apply(w.state, approval(w, n, r));
    refused(w.state, act(request({ parameters: { setId: 's2' } }), { setId: 's2' }), 'QUORUM_NOT_MET', /found 0/);
    refused(w.state, act(r, { setId: 's2' }), 'WRONG_REQUEST', /sets setId to "s1", but the act has s2/);
    refused(w.state, act(r, { target: 'bob' }), 'WRONG_REQUEST', /is for target alice, not bob/);
    // An act naming another key than its target: the key the fold would act on was not approved.
    refused(w.state, act(r, { keyId: 'k0123456789abcdef' }), 'WRONG_REQUEST', /is for target alice, but the act is on key k0123456789abcdef/);
    refused(w.state, { ...act(r), consumes: { operation: 'key-retire', count: 'policy' } }, 'WRONG_REQUEST', /is for recover-custodian, not key-retire/);
    refused(w.state, act(r, { request: undefined }), 'WRONG_REQUEST', /names no approval request/);
    const forged = approval(w, 'dave', r);
    (forged.params.approval as any).request = request({ target: 'bob' });
    refused(w.state, forged, 'WRONG_REQUEST', /it was altered/);
    apply(w.state, act(r)); // the refusals changed nothing
  });

  test('another head: a request made in another history does not count', async () => {
    const w = await world();
    refused(w.state, approval(w, 'bob', request({ head: 'b'.repeat(64) })), 'WRONG_REQUEST', /head bbbbbbbbbbbbbbbb…, which is not a line of this history/);
  });

  test('after expiry: neither the approval nor the act may come later than the request allows', async () => {
    const w = await world();
    const r = request();
    const late = new Date(Date.now() + 2 * HOUR).toISOString();
    refused(w.state, approval(w, 'bob', r, { time: late }), 'APPROVAL_EXPIRED', /after the request expired/);
    for (const n of ['bob', 'carol']) apply(w.state, approval(w, n, r));
    refused(w.state, act(r, {}, late), 'APPROVAL_EXPIRED', /expired at/);
    apply(w.state, act(r));
  });

  test('from the target, from whom the change removes, from a non-custodian, or twice: refused', async () => {
    const w = await world();
    const r = request();
    refused(w.state, approval(w, 'alice', r), 'NOT_PERMITTED', /alice is the target of recover-custodian/);
    const removal = request({ operation: 'roster-change', target: 'dave', parameters: { change: { op: 'remove', name: 'carol' } } });
    refused(w.state, approval(w, 'carol', removal), 'NOT_PERMITTED', /carol is the target of roster-change or replaced or removed by it/);
    refused(w.state, approval(w, 'gen', r), 'NOT_PERMITTED', /gen's approval key is not a custodian's/);
    refused(w.state, approval(w, 'bob', r, { key: w.people.carol }), 'BAD_SIGNATURE', /not signed by bob's key/);
    apply(w.state, approval(w, 'bob', r));
    refused(w.state, approval(w, 'bob', r), 'APPROVAL_USED', /bob has already approved it/);
  });

  test('a member removed since the approval does not count at the act', async () => {
    const w = await world();
    const r = request();
    for (const n of ['bob', 'carol']) apply(w.state, approval(w, n, r));
    apply(w.state, entry('roster.change', { params: { change: { op: 'remove', name: 'carol' }, version: 2 } }));
    refused(w.state, act(r), 'QUORUM_NOT_MET', /found 1 \(bob\); carol's approval key is not a custodian's in roster version 2/);
    apply(w.state, approval(w, 'dave', r));
    apply(w.state, act(r));
  });
});
