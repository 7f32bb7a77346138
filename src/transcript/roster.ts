import { KeyriteError } from '../errors.js';
import { replaceFile } from '../fs/atomic.js';
import { readJson, type Workspace } from '../fs/workspace.js';
import type { PublicIdentity, Role } from '../custody/identity.js';

// The roster says who may act, in which role, under which policy. Enrolment is open until the
// roster is sealed; what it says at each point of the transcript decides whose signature counts.

export interface Policy {
  threshold: number; // t of the signing key
  parties: number; // n signing nodes
  guardianThreshold: number; // k of a custodian's guardian split
  guardians: number; // m guardians per custodian
  approvals: number; // approvers needed for a sensitive operation
}

export interface Roster {
  v: 1;
  version: number; // 0 while enrolment is open; 1 once sealed; +1 per change
  policy: Policy;
  members: PublicIdentity[];
  nodes: PublicIdentity[];
  /** Ed25519 keys a member held before a recovery replaced them: records they signed stay valid. */
  formerKeys?: Record<string, string[]>;
}

export const DEFAULT_POLICY: Policy = { threshold: 2, parties: 3, guardianThreshold: 3, guardians: 5, approvals: 2 };

export function checkPolicy(p: Policy): Policy {
  const bad = (m: string) => new KeyriteError('BAD_POLICY', m, 2);
  for (const [k, v] of Object.entries(p)) if (!Number.isInteger(v) || v < 1) throw bad(`${k} must be a whole number ≥ 1, not ${v}`);
  if (p.threshold < 2 || p.threshold > p.parties) throw bad(`threshold ${p.threshold} must be between 2 and the number of parties ${p.parties}`);
  if (p.guardianThreshold < 2 || p.guardianThreshold > p.guardians) throw bad(`guardian threshold ${p.guardianThreshold} must be between 2 and the number of guardians ${p.guardians}`);
  if (p.guardians > 255 || p.parties > 255) throw bad('at most 255 parties or guardians');
  return p;
}

export function newRoster(policy: Policy): Roster {
  return { v: 1, version: 0, policy: checkPolicy(policy), members: [], nodes: [] };
}

export function loadRoster(ws: Workspace): Roster {
  ws.requireExists();
  const r = readJson<Roster>(ws.rosterFile, 'the roster');
  if (r.v !== 1 || !Array.isArray(r.members) || !Array.isArray(r.nodes)) {
    throw new KeyriteError('DAMAGED_FILE', `the roster (${ws.rosterFile}) is not a keyrite roster`);
  }
  return r;
}

export function saveRoster(ws: Workspace, roster: Roster): void {
  replaceFile(ws.rosterFile, JSON.stringify(roster, null, 2) + '\n');
}

export function findMember(roster: Roster, name: string): PublicIdentity | undefined {
  return roster.members.find((m) => m.name === name) ?? roster.nodes.find((m) => m.name === name);
}

/** The enrolled identity of `name`, which must hold `role` when one is given. */
export function member(roster: Roster, name: string, role?: Role): PublicIdentity {
  const m = findMember(roster, name);
  if (!m) throw new KeyriteError('NOT_ENROLLED', `${name} is not enrolled in the roster; enrol them with "keyrite identity new --name ${name} --role ${role ?? 'ROLE'}"`);
  if (role && m.role !== role) throw new KeyriteError('WRONG_ROLE', `${name} is enrolled as ${m.role}, not ${role}`);
  return m;
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

/** Every Ed25519 key `name` has held, current first. */
export function signingKeysOf(roster: Roster, name: string): string[] {
  const current = findMember(roster, name);
  return [...(current ? [current.signingKey] : []), ...(roster.formerKeys?.[name] ?? [])];
}
