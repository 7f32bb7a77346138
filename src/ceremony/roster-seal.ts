import type { Workspace } from '../fs/workspace.js';
import { withLock } from '../fs/lock.js';
import { loadRoster, sealRoster, soleMember } from '../state/roster.js';
import type { Sealed } from '../evidence/writer.js';
import { confirmFirst, inCeremony } from './evidence.js';
import type { Operator } from './operator.js';
import { unlockPerson } from './unlock.js';

export interface RosterSealInput {
  ws: Workspace;
  operator: Operator;
  witness?: string;
  identities: Map<string, string>;
}

/** Freezes roster version 1: signed by the generator, co-signed by a witness. Nothing custodial happens before. */
export function sealRosterCeremony(i: RosterSealInput): Promise<{ version: number; digest: string; sealed: Sealed }> {
  return withLock(i.ws.requireExists().root, 'roster seal', async () => {
    const roster = loadRoster(i.ws);
    const gen = soleMember(roster, 'generator', undefined);
    const wit = soleMember(roster, 'witness', i.witness);
    const generator = await unlockPerson(i.ws, roster, i.operator, gen.name, 'generator', i.identities.get(gen.name));
    const witness = await unlockPerson(i.ws, roster, i.operator, wit.name, 'witness', i.identities.get(wit.name));
    const confirmed = await confirmFirst(i.operator, 'roster-seal', ['ceremony.start', 'roster.seal']);
    return inCeremony(i.ws, i.operator, { script: 'roster-seal', actor: generator }, async (c) => {
      const r = await sealRoster(c, generator, witness);
      return { version: r.roster.version, digest: r.digest };
    }, [witness], confirmed);
  });
}
