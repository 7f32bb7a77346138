import { KeyriteError } from '../base/errors.js';
import { applyChange, checkPublicIdentity, enrol, rosterDigest, type Roster, type RosterChange } from './roster.js';
import { checkPolicy } from './policy.js';

// The roster's history lives in the transcript. Replaying the genesis roster and then every
// roster.enrol, roster.seal and roster.change gives the roster in force at each line; the
// writer applies its own entries with this same code, so the two cannot drift apart.

/**
 * The roster a workspace starts from, carried whole by the genesis entry: open for enrolment,
 * one generator (the genesis signer) and the signing nodes it created.
 */
export function genesisRoster(params: Record<string, unknown>): Roster {
  const r = params.roster as Roster | undefined;
  if (!r || r.v !== 1 || r.version !== 0 || !Array.isArray(r.members) || !Array.isArray(r.nodes)) {
    throw new KeyriteError('BAD_GENESIS', 'the genesis entry does not carry an open (version 0) roster');
  }
  checkPolicy(r.policy);
  r.members.forEach((m, i) => checkPublicIdentity(m, `genesis member ${i + 1}`));
  r.nodes.forEach((m, i) => checkPublicIdentity(m, `genesis node ${i + 1}`));
  if (r.members.length !== 1 || r.members[0]!.role !== 'generator' || r.nodes.some((n) => n.role !== 'node')) {
    throw new KeyriteError('BAD_GENESIS', 'the genesis roster must hold exactly the generator and nodes; everyone else enrols');
  }
  return r;
}

/** The roster after `step`, or the same roster when the step does not change it. Throws the reason a transition is invalid. */
export function applyStep(roster: Roster, step: string, params: Record<string, unknown>): Roster {
  switch (step) {
    case 'roster.enrol': {
      if (roster.version !== 0) throw new KeyriteError('ROSTER_SEALED', `roster.enrol after the roster was sealed (version ${roster.version})`);
      const next = structuredClone(roster);
      enrol(next, checkPublicIdentity(params.identity, 'the enrolled identity'));
      return next;
    }
    case 'roster.seal': {
      if (roster.version !== 0) throw new KeyriteError('ROSTER_SEALED', `roster.seal of a roster already at version ${roster.version}`);
      const sealed: Roster = { ...roster, version: 1 };
      const digest = rosterDigest(sealed);
      if (params.roster !== digest) throw new KeyriteError('ROSTER_MISMATCH', `roster.seal names roster ${String(params.roster)}, but the enrolled roster is ${digest}`);
      return sealed;
    }
    case 'roster.change': {
      const next = applyChange(roster, params.change as RosterChange);
      if (params.version !== next.version) throw new KeyriteError('ROSTER_MISMATCH', `roster.change names version ${String(params.version)}, not ${next.version}`);
      return next;
    }
    default:
      return roster;
  }
}
