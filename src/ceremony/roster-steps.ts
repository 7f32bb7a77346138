import { KeyriteError } from '../base/errors.js';
import type { Identity } from '../custody/identity.js';
import { publicOf } from '../custody/identity.js';
import { changedName } from '../evidence/signers.js';
import type { Ceremony } from '../evidence/writer.js';
import { applyChange, enrol, requireSealed, rosterDigest, type Roster, type RosterChange } from '../state/roster.js';

// The roster's recorded transitions (docs/ARCHITECTURE.md §6, "Roster"): enrolment while it is open, the seal
// that makes version 1, and changes under the approvers' quorum and a witness. Each is checked against the
// roster in force before it is recorded; the fold then applies it (src/state/fold.ts), and the
// roster cache is rewritten from the fold when the ceremony closes.

/** Enrols `id` while the roster is open; the entry is signed by the new identity itself (proof of possession). */
export async function recordEnrol(c: Ceremony, id: Identity): Promise<void> {
  const roster = c.state.requireRoster();
  if (roster.version > 0) {
    throw new KeyriteError('ROSTER_SEALED', `the roster is sealed (version ${roster.version}); adding ${id.name} is a roster change that needs the approvers' quorum`);
  }
  const pub = publicOf(id);
  enrol(structuredClone(roster), pub); // refuse duplicates before anything is recorded
  await c.record({ step: 'roster.enrol', actor: id, params: { identity: pub } });
}

/** Seals version 1: signed by the generator, co-signed by a witness. */
export async function recordSeal(c: Ceremony, generator: Identity, witness: Identity): Promise<{ roster: Roster; digest: string }> {
  const roster = c.state.requireRoster();
  if (roster.version !== 0) throw new KeyriteError('ROSTER_SEALED', `the roster is already sealed (version ${roster.version})`);
  const digest = rosterDigest({ ...roster, version: 1 });
  await c.record({ step: 'roster.seal', actor: generator, cosigners: [witness], params: { roster: digest } });
  return { roster: c.state.requireRoster(), digest };
}

/**
 * Records a roster change approved by the current version's quorum (`approvers`, custodians;
 * the first is the entry's actor), co-signed by a `witness` of that version. Nobody the change
 * re-keys or removes approves it. A change that brings in new keys is co-signed by their
 * `holder` too, proving possession. The writer would refuse the same (src/evidence/signers.ts);
 * this says so before anything is recorded, with the codes of the README.
 */
export async function recordChange(c: Ceremony, change: RosterChange, signers: { approvers: Identity[]; witness: Identity; holder?: Identity }): Promise<Roster> {
  const roster = requireSealed(c.state.requireRoster());
  const next = applyChange(roster, change); // refuse a bad change before anything is recorded
  const changed = changedName(change);
  const [actor, ...rest] = signers.approvers;
  if (changed && signers.approvers.some((a) => a.name === changed)) throw new KeyriteError('NOT_PERMITTED', `${changed} cannot approve a roster change that re-keys or removes them`);
  if (!actor || signers.approvers.length < roster.policy.approvals) {
    throw new KeyriteError('QUORUM_NOT_MET', `a roster change needs ${roster.policy.approvals} approvers of roster version ${roster.version}; ${signers.approvers.length} signed`);
  }
  const cosigners = [...rest, signers.witness, ...(signers.holder ? [signers.holder] : [])];
  await c.record({ step: 'roster.change', actor, cosigners, params: { change, version: next.version } });
  return c.state.requireRoster();
}
