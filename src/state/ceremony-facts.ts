import { KeyriteError, shown } from '../base/errors.js';
import type { KeyRecord } from './key-record.js';

// What the ceremony being folded has established so far (docs/ARCHITECTURE.md, "The fold"): the
// keygen.share each node signed, and the operations whose approvals its sensitive acts
// consumed. An entry that creates, ends or moves a key counts only when its own ceremony holds
// what backs it: a keygen.result the signed shares of every party's node, a retirement, an epoch
// change or an emergency recovery the quorum of its operation. So no entry signed by one member
// alone — the generator, or one custodian — can create, freeze or move a key, whichever script
// it names and however the ceremony ends.

export interface NodeShare {
  keyId: unknown;
  epoch: unknown;
  sessionId: unknown;
  groupPublicKey: unknown;
  verifyingShare: unknown;
}

export interface CeremonyFacts {
  ceremony: string;
  shares: Map<string, NodeShare>; // by the node that signed it
  quorums: Set<string>; // operations whose approvals this ceremony consumed
}

export const noFacts = (ceremony = ''): CeremonyFacts => ({ ceremony, shares: new Map(), quorums: new Set() });

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
  if (e.step !== 'keygen.share' && !consumed) return facts;
  const next: CeremonyFacts = { ceremony: e.ceremony, shares: new Map(facts.shares), quorums: new Set(facts.quorums) };
  if (consumed) next.quorums.add(consumed);
  if (e.step === 'keygen.share') {
    if (e.params.party !== e.actor) throw new KeyriteError('BAD_CHANGE', `keygen.share in ${e.ceremony} by ${e.actor} is for party ${shown(e.params.party)}; a node signs only its own party's share`);
    if (next.shares.has(e.actor)) throw new KeyriteError('BAD_CHANGE', `keygen.share in ${e.ceremony}: ${e.actor} signed a second share`);
    const { keyId, epoch, sessionId } = e.params;
    next.shares.set(e.actor, { keyId, epoch, sessionId, groupPublicKey: e.result.groupPublicKey, verifyingShare: e.result.verifyingShare });
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
 * (factsAfter), so an act that consumes its own quorum is backed by it; `created` is the key
 * record a keygen.result creates.
 */
export function requireBacking(facts: CeremonyFacts, e: Entry, created: KeyRecord | undefined): void {
  const backing = backingOf(e);
  if (backing && !backing.some((op) => facts.quorums.has(op))) {
    throw new KeyriteError('QUORUM_NOT_MET', `${e.step} in ${e.ceremony} is not preceded, in its own ceremony, by the consumed approvals of ${backing.join(' or ')}`);
  }
  if (e.step === 'keygen.result' && created) requireShares(facts, created, e.ceremony);
}

/** Every party's node signed, in this ceremony and one session, the share this record describes. */
function requireShares(facts: CeremonyFacts, r: KeyRecord, ceremony: string): void {
  const sessions = new Set<unknown>();
  for (const p of r.parties) {
    const s = facts.shares.get(p.node);
    const wrong = (why: string) => new KeyriteError('BAD_CHANGE', `keygen.result in ${ceremony} creates key ${r.keyId}, but ${why}`);
    if (!s) throw wrong(`${p.node} signed no keygen.share for party ${p.party} in this ceremony`);
    if (s.keyId !== r.keyId || s.epoch !== r.epoch || s.groupPublicKey !== r.publicPackage.groupPublicKey || s.verifyingShare !== r.publicPackage.verifyingShares[p.party]) {
      throw wrong(`the keygen.share ${p.node} signed is for another key or share (key ${shown(s.keyId)}, epoch ${shown(s.epoch)})`);
    }
    sessions.add(s.sessionId);
  }
  if (sessions.size !== 1) throw new KeyriteError('BAD_CHANGE', `keygen.result in ${ceremony}: the nodes' shares come from ${sessions.size} different key-generation sessions`);
  if (facts.shares.size !== r.parties.length) throw new KeyriteError('BAD_CHANGE', `keygen.result in ${ceremony}: ${facts.shares.size} nodes signed shares, but key ${r.keyId} has ${r.parties.length} parties`);
}
