import type { Workspace } from '../fs/workspace.js';
import type { Sealed } from '../evidence/writer.js';
import type { Operator } from './kernel/operator.js';
import { withSession, type IdentityPaths } from './kernel/session.js';
import { recordSeal } from './roster-steps.js';

// roster seal: freezes roster version 1. Records, in order: ceremony.start, the checklist
// confirmations, roster.seal (the generator, co-signed by the witness), ceremony.seal (both).

export interface RosterSealInput {
  ws: Workspace;
  operator: Operator;
  witness?: string;
  identities: IdentityPaths;
}

/** Freezes roster version 1: signed by the generator, co-signed by a witness. Nothing custodial happens before. */
export function sealRosterCeremony(i: RosterSealInput): Promise<{ version: number; digest: string; sealed: Sealed }> {
  return withSession({ ws: i.ws, operator: i.operator, label: 'roster seal', sealed: false }, async (s) => {
    const generator = await s.unlockSole('generator', { identities: i.identities });
    const witness = await s.unlockSole('witness', { name: i.witness, identities: i.identities });
    await s.checklist('roster-seal', 'ceremony.start');
    await s.checklist('roster-seal', 'roster.seal');
    return s.run({ script: 'roster-seal', actor: generator }, async (c) => {
      const r = await recordSeal(c, generator, witness);
      return { version: r.roster.version, digest: r.digest };
    }, [witness]);
  });
}
