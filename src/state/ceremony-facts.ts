import { KeyriteError, shown } from '../base/errors.js';
import type { KeyRecord } from './key-record.js';

// What the ceremony being folded has established so far (docs/ARCHITECTURE.md, "The fold"): the
// share each node signed it keeps (keygen.share, refresh.share, reshare.share, repair.share), and
// the operations whose approvals its sensitive acts consumed. An entry that creates, ends or moves
// a key counts only when its own ceremony holds what backs it: a keygen.result, refresh.result or
// reshare.result the signed shares of every party's node, a retirement, an epoch change, an
// emergency recovery or a repaired share the quorum of its operation. So no entry signed by one
// member alone — the generator, one custodian or one node — can create, freeze or move a key, or
// make the fold forget a party's shard, whichever script it names and however the ceremony ends.

export interface NodeShare {
  step: string;
  keyId: unknown;
  epoch: unknown;
  sessionId: unknown;
  groupPublicKey: unknown;
  verifyingShare: unknown;
}

export interface CeremonyFacts {
  ceremony: string;
  shares: Map<string, NodeShare>; // by the node that signed it
  /** The operations whose approvals this ceremony consumed, each with the params of the act that consumed it. */
  quorums: Map<string, Record<string, unknown>>;
}

/** The result each share entry backs, by the entry's step: a node keeps a share only in its own kind of run. */
const SHARE_FOR: Record<string, string> = { 'keygen.share': 'keygen.result', 'refresh.share': 'refresh.result', 'reshare.share': 'reshare.result' };

/** The steps whose key record must be backed by every party's node's signed share. */
export const SHARE_RESULTS: readonly string[] = Object.values(SHARE_FOR);

/** Every entry by which a node says it keeps a share: one per node and ceremony. A repaired share backs no key record. */
const KEPT: readonly string[] = [...Object.keys(SHARE_FOR), 'repair.share'];

export const noFacts = (ceremony = ''): CeremonyFacts => ({ ceremony, shares: new Map(), quorums: new Map() });

interface Entry {
  ceremony: string;
  step: string;
  actor: string;
  params: Record<string, unknown>;
  result: Record<string, unknown>;
}

/** The facts after `e`, given those before it (`now`, of whichever ceremony was folded last) and the operation whose quorum it consumed, if any. */
export function factsAfter(now: CeremonyFacts, e: Entry, consumed: string | undefined): CeremonyFacts {
  const facts = now.ceremony === e.ceremony ? now : noFacts(e.ceremony);
  const isShare = KEPT.includes(e.step);
  if (!isShare && !consumed) return facts;
  const next: CeremonyFacts = { ceremony: e.ceremony, shares: new Map(facts.shares), quorums: new Map(facts.quorums) };
  if (consumed) next.quorums.set(consumed, e.params);
  if (isShare) {
    if (e.params.party !== e.actor) throw new KeyriteError('BAD_CHANGE', `${e.step} in ${e.ceremony} by ${e.actor} is for party ${shown(e.params.party)}; a node signs only its own party's share`);
    if (next.shares.has(e.actor)) throw new KeyriteError('BAD_CHANGE', `${e.step} in ${e.ceremony}: ${e.actor} signed a second share`);
    const { keyId, epoch, sessionId } = e.params;
    next.shares.set(e.actor, { step: e.step, keyId, epoch, sessionId, groupPublicKey: e.result.groupPublicKey, verifyingShare: e.result.verifyingShare });
  }
  return next;
}

/** The operations whose quorum, consumed in the same ceremony, backs each effect (any one of them). */
function backingOf(e: Entry): string[] | undefined {
  switch (e.step) {
    case 'key.retire':
      return ['key-retire', 'recover-private-key'];
    case 'refresh.result':
      return ['refresh'];
    case 'reshare.result':
      return ['reshare'];
    case 'repair.share':
      // It makes the fold forget the party's shard on record (fold.ts, forgetLostShard).
      return ['repair'];
    case 'recover.result':
      // A recovery of a recorded session is backed by its start and its releases (recovery.ts).
      if (e.params.kind === 'private-key') return ['recover-private-key'];
      return e.params.session === undefined ? ['recover-custodian'] : undefined;
    default:
      return undefined;
  }
}

/**
 * Refuses an effect its ceremony does not back. `facts` are those after the entry itself
 * (factsAfter), so an act that consumes its own quorum is backed by it; `made` is the key
 * record a keygen.result, refresh.result or reshare.result records.
 */
export function requireBacking(facts: CeremonyFacts, e: Entry, made: KeyRecord | undefined): void {
  const backing = backingOf(e);
  if (backing && !backing.some((op) => facts.quorums.has(op))) {
    throw new KeyriteError('QUORUM_NOT_MET', `${e.step} in ${e.ceremony} is not preceded, in its own ceremony, by the consumed approvals of ${backing.join(' or ')}`);
  }
  if (SHARE_RESULTS.includes(e.step) && made) requireShares(facts, made, e);
}

/**
 * Every party's node signed, in this ceremony, one session and the run of this result's kind,
 * the share this record describes: so a new epoch holds only shares the nodes say they keep.
 */
function requireShares(facts: CeremonyFacts, r: KeyRecord, e: Entry): void {
  const sessions = new Set<unknown>();
  const wrong = (why: string) => new KeyriteError('BAD_CHANGE', `${e.step} in ${e.ceremony} records key ${r.keyId} at epoch ${r.epoch}, but ${why}`);
  for (const p of r.parties) {
    const s = facts.shares.get(p.node);
    if (!s || SHARE_FOR[s.step] !== e.step) throw wrong(`${p.node} signed no share for party ${p.party} in this ceremony's run`);
    if (s.keyId !== r.keyId || s.epoch !== r.epoch || s.groupPublicKey !== r.publicPackage.groupPublicKey || s.verifyingShare !== r.publicPackage.verifyingShares[p.party]) {
      throw wrong(`the ${s.step} ${p.node} signed is for another key or share (key ${shown(s.keyId)}, epoch ${shown(s.epoch)})`);
    }
    sessions.add(s.sessionId);
  }
  if (sessions.size !== 1) throw wrong(`the nodes' shares come from ${sessions.size} different sessions`);
  if (facts.shares.size !== r.parties.length) throw wrong(`${facts.shares.size} nodes signed shares, but the key has ${r.parties.length} parties`);
}

/**
 * A repair.share: the node rebuilt its own party's share of the key as it stands, so the
 * verifying share it signs is the one on record, at the epoch in force (a repair changes no share),
 * and that party is the one whose repair this ceremony's consumed approvals name. `facts` are
 * those after the entry (factsAfter: one share per node, its own party's).
 */
export function checkRepaired(r: KeyRecord, e: Entry, facts: CeremonyFacts): void {
  const wrong = (why: string) => new KeyriteError('BAD_CHANGE', `repair.share in ${e.ceremony} by ${e.actor}: ${why}`);
  const approved = facts.quorums.get('repair');
  const party = r.parties.find((p) => p.custodian === approved?.custodian)?.party;
  if (approved && party !== e.actor) throw wrong(`the repair approved in this ceremony is of ${shown(approved.custodian)}'s share, not party ${e.actor}'s`);
  if (r.status !== 'active') throw wrong(`key ${r.keyId} is ${r.status}`);
  if (e.params.epoch !== r.epoch) throw wrong(`it is for epoch ${shown(e.params.epoch)}, but key ${r.keyId} is at epoch ${r.epoch}`);
  if (e.result.groupPublicKey !== r.publicKey || e.result.verifyingShare !== r.publicPackage.verifyingShares[e.actor]) {
    throw wrong(`the share it signs is not party ${e.actor}'s share of key ${r.keyId} on record`);
  }
}
