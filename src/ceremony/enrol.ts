import { KeyriteError } from '../base/errors.js';
import type { Workspace } from '../fs/workspace.js';
import { newIdentity, publicOf } from '../custody/identity.js';
import type { Sealed } from '../evidence/writer.js';
import { checkName, type PublicIdentity } from '../state/identity.js';
import type { PersonRole } from '../state/roles.js';
import { findMember } from '../state/roster.js';
import type { Operator } from './kernel/operator.js';
import { checkIdentityTarget, writePersonIdentity } from './kernel/people.js';
import { withSession } from './kernel/session.js';
import { recordEnrol } from './roster-steps.js';

// identity new: a new person enrols while the roster is open. Records, in order:
// ceremony.start (signed by the newcomer's own new key, carrying their public identity),
// the checklist confirmations, roster.enrol (signed by the newcomer: proof of possession),
// ceremony.seal.

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
  return withSession({ ws: i.ws, operator: i.operator, label: `identity new ${i.name}`, sealed: false }, async (s) => {
    if (findMember(s.roster, i.name)) throw new KeyriteError('ALREADY_ENROLLED', `${i.name} is already enrolled; choose another name`);
    if (s.roster.version > 0) {
      throw new KeyriteError('ROSTER_SEALED', `the roster is sealed (version ${s.roster.version}); enrolling ${i.name} now is a roster change that needs the approvers' quorum`);
    }
    checkIdentityTarget(i.ws, i.name, i.out ?? i.ws.holdingsDir(i.name));
    const passphrase = await i.operator.passphrase(i.name, 'new');
    await s.checklist('enrol', 'ceremony.start');
    await s.checklist('enrol', 'roster.enrol');
    const id = await newIdentity(i.name, i.role);
    const written = await i.operator.progress(`Locking ${i.name}'s identity (scrypt)`, () =>
      writePersonIdentity(i.ws, id, passphrase, i.logN, i.out ?? i.ws.holdingsDir(i.name)),
    );
    const opening = { script: 'enrol', actor: id, params: { name: i.name, role: i.role }, introduce: publicOf(id) };
    return s.run(opening, async () => written, [], (c) => recordEnrol(c, id));
  });
}
