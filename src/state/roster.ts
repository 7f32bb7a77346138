import { digestOf } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { checkPublicIdentity, type PublicIdentity } from './identity.js';
import { checkPolicy, type Policy } from './policy.js';
import type { Role } from './roles.js';

// The roster says who may act, in which role, under which policy. Enrolment is open until the
// roster is sealed; what it says at each point of the transcript decides whose signature counts.


export interface Roster {
  v: 1;
  version: number; // 0 while enrolment is open; 1 once sealed; +1 per change
  policy: Policy;
  members: PublicIdentity[];
  nodes: PublicIdentity[];
  /** Ed25519 keys a member held before a recovery replaced them: records they signed stay valid. */
  formerKeys?: Record<string, string[]>;
}

export function newRoster(policy: Policy): Roster {
  return { v: 1, version: 0, policy: checkPolicy(policy), members: [], nodes: [] };
}

export function findMember(roster: Roster, name: string): PublicIdentity | undefined {
  return roster.members.find((m) => m.name === name) ?? roster.nodes.find((m) => m.name === name);
}

/** The enrolled identity of `name`, which must hold `role` when one is given. */
export function member(roster: Roster, name: string, role?: Role): PublicIdentity {
  const m = findMember(roster, name);
  if (!m) throw new KeyriteError('NOT_ENROLLED', `${name} is not enrolled in the roster${role ? ` (needed as ${role})` : ''}`);
  if (role && m.role !== role) throw new KeyriteError('WRONG_ROLE', `${name} is enrolled as ${m.role}, not ${role}`);
  return m;
}

/** The member named, or else the only member with `role`; refuses when that is ambiguous. */
export function soleMember(roster: Roster, role: Role, name: string | undefined): PublicIdentity {
  if (name) return member(roster, name, role);
  const all = membersWithRole(roster, role);
  if (all.length !== 1) {
    throw new KeyriteError('MISSING_INPUT', `${all.length === 0 ? 'no' : all.length} ${role === 'witness' ? 'witnesses' : `${role}s`} are enrolled and none was named, so there is no sole ${role} to act`);
  }
  return all[0]!;
}

export function membersWithRole(roster: Roster, role: Role): PublicIdentity[] {
  return (role === 'node' ? roster.nodes : roster.members).filter((m) => m.role === role);
}

export function enrol(roster: Roster, pub: PublicIdentity): void {
  if (findMember(roster, pub.name)) {
    throw new KeyriteError('ALREADY_ENROLLED', `${pub.name} is already enrolled; choose another name`);
  }
  if (roster.members.some((m) => m.signingKey === pub.signingKey || m.recipient === pub.recipient)) {
    throw new KeyriteError('ALREADY_ENROLLED', `the keys of ${pub.name} are already enrolled under another name`);
  }
  (pub.role === 'node' ? roster.nodes : roster.members).push(pub);
}

// ---- Versions -------------------------------------------------------------------------------
// Version 0 is open enrolment; `roster seal` makes version 1 (generator + witness); every later
// version is a change signed by the previous version's approval quorum, as TUF rotates its root.
// The transcript carries every transition (roster.enrol, roster.seal, roster.change), so the
// verifier rebuilds the roster in force at each line by replaying them (replay.ts).

export type RosterChange =
  | { op: 'rekey'; name: string; identity: PublicIdentity } // same person and role, new keys (after recovery)
  | { op: 'add'; identity: PublicIdentity }
  | { op: 'remove'; name: string }
  | { op: 'policy'; policy: Policy };

export function rosterDigest(roster: Roster): string {
  return digestOf(roster);
}

export function identities(roster: Roster): PublicIdentity[] {
  return [...roster.members, ...roster.nodes];
}

export function byFingerprint(roster: Roster, fingerprint: string): PublicIdentity | undefined {
  return identities(roster).find((m) => m.fingerprint === fingerprint);
}

/** Nothing custodial happens before the roster is sealed. */
export function requireSealed(roster: Roster): Roster {
  if (roster.version < 1) {
    throw new KeyriteError('ROSTER_NOT_SEALED', 'the roster is still open for enrolment; nothing custodial happens before the generator and a witness seal it');
  }
  return roster;
}

/** The roster after `change`: a new version, never an edit of the old one. */
export function applyChange(roster: Roster, change: RosterChange): Roster {
  requireSealed(roster);
  if (typeof change !== 'object' || change === null) throw new KeyriteError('BAD_CHANGE', 'a roster change names no change');
  const next: Roster = structuredClone({ ...roster, version: roster.version + 1 });
  const where = (name: string) => (findMember(next, name)?.role === 'node' ? next.nodes : next.members);
  switch (change.op) {
    case 'rekey': {
      const old = member(next, change.name);
      const pub = checkPublicIdentity(change.identity, `the new identity of ${change.name}`);
      if (pub.name !== old.name || pub.role !== old.role) throw new KeyriteError('BAD_CHANGE', `a rekey keeps name and role; ${pub.name} (${pub.role}) does not replace ${old.name} (${old.role})`);
      const list = where(change.name);
      list[list.findIndex((m) => m.name === change.name)] = pub;
      // What the old key signed before the change (a guardian set, say) stays verifiable.
      next.formerKeys = { ...next.formerKeys, [change.name]: [old.signingKey, ...(next.formerKeys?.[change.name] ?? [])] };
      break;
    }
    case 'add':
      enrol(next, checkPublicIdentity(change.identity, 'the added identity'));
      break;
    case 'remove': {
      member(next, change.name);
      const list = where(change.name);
      list.splice(list.findIndex((m) => m.name === change.name), 1);
      break;
    }
    case 'policy':
      next.policy = checkPolicy(change.policy);
      break;
    default:
      throw new KeyriteError('BAD_CHANGE', `unknown roster change ${JSON.stringify((change as { op: unknown }).op)}`);
  }
  return next;
}
