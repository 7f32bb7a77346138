import { KeyriteError } from '../base/errors.js';
import { withLock } from '../fs/lock.js';
import type { Workspace } from '../fs/workspace.js';
import { checkName, newIdentity, type PersonRole, type PublicIdentity } from '../custody/identity.js';
import { findMember, loadRoster } from '../state/roster.js';
import type { Sealed } from '../evidence/writer.js';
import { confirmFirst, inCeremony } from './evidence.js';
import type { Operator } from './operator.js';
import { checkIdentityTarget, writePersonIdentity } from './unlock.js';

export interface EnrolInput {
  ws: Workspace;
  name: string;
  role: PersonRole;
  out?: string;
  operator: Operator;
  logN: number;
}

/** A new person: identity file in their holdings (or --out), public part enrolled in the roster. */
export async function enrolPerson(i: EnrolInput): Promise<{ file: string; pub: PublicIdentity; sealed: Sealed }> {
  checkName(i.name);
  return withLock(i.ws.requireExists().root, `identity new ${i.name}`, async () => {
    const roster = loadRoster(i.ws);
    if (findMember(roster, i.name)) throw new KeyriteError('ALREADY_ENROLLED', `${i.name} is already enrolled; choose another name`);
    if (roster.version > 0) {
      throw new KeyriteError('ROSTER_SEALED', `the roster is sealed (version ${roster.version}); enrolling ${i.name} now is a roster change that needs the approvers' quorum`);
    }
    checkIdentityTarget(i.ws, i.name, i.out ?? i.ws.holdingsDir(i.name));
    const passphrase = await i.operator.passphrase(i.name, 'new');
    const confirmed = await confirmFirst(i.operator, 'enrol', ['ceremony.start', 'roster.enrol']);
    const id = await newIdentity(i.name, i.role);
    const written = await i.operator.progress(`Locking ${i.name}'s identity (scrypt)`, () =>
      writePersonIdentity(i.ws, id, passphrase, i.logN, i.out ?? i.ws.holdingsDir(i.name)),
    );
    // Starting a ceremony as someone the open roster does not know enrols them, signed by
    // their own new key: proof that they hold it.
    return inCeremony(i.ws, i.operator, { script: 'enrol', actor: id, params: { name: i.name, role: i.role } }, async () => written, [], confirmed);
  });
}
