import { KeyriteError } from '../errors.js';
import { withLock } from '../fs/lock.js';
import type { Workspace } from '../fs/workspace.js';
import { checkName, newIdentity, type PersonRole, type PublicIdentity } from '../custody/identity.js';
import { enrol, findMember, loadRoster, saveRoster } from '../transcript/roster.js';
import type { Operator } from './operator.js';
import { writePersonIdentity } from './unlock.js';

export interface EnrolInput {
  ws: Workspace;
  name: string;
  role: PersonRole;
  out?: string;
  operator: Operator;
  logN: number;
}

/** A new person: identity file in their holdings (or --out), public part enrolled in the roster. */
export async function enrolPerson(i: EnrolInput): Promise<{ file: string; pub: PublicIdentity }> {
  checkName(i.name);
  return withLock(i.ws.requireExists().root, `identity new ${i.name}`, async () => {
    const roster = loadRoster(i.ws);
    if (findMember(roster, i.name)) throw new KeyriteError('ALREADY_ENROLLED', `${i.name} is already enrolled; choose another name`);
    if (roster.version > 0) {
      throw new KeyriteError('ROSTER_SEALED', `the roster is sealed (version ${roster.version}); enrolling ${i.name} now is a roster change that needs the approvers' quorum`);
    }
    const passphrase = await i.operator.passphrase(i.name, 'new');
    const id = await newIdentity(i.name, i.role);
    const written = await i.operator.progress(`Locking ${i.name}'s identity (scrypt)`, () =>
      writePersonIdentity(i.ws, id, passphrase, i.logN, i.out ?? i.ws.holdingsDir(i.name)),
    );
    enrol(roster, written.pub);
    saveRoster(i.ws, roster);
    return written;
  });
}
