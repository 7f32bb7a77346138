import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KeyriteError } from '../base/errors.js';
import { readJson, type Workspace } from '../fs/workspace.js';
import { verifyEnvelope, verifySet, type GuardianSet, type ShareEnvelope } from '../custody/guardian-share.js';
import type { Identity, PublicIdentity } from '../custody/identity.js';
import type { Operator } from './operator.js';
import { unlockPerson } from './unlock.js';
import { member, signingKeysOf, type Roster } from '../state/roster.js';

// Reading guardian sets and share envelopes from disk, checked against the roster.

export function loadSet(ws: Workspace, roster: Roster, custodian: string): GuardianSet {
  member(roster, custodian, 'custodian');
  const path = ws.guardianSetFile(custodian);
  const set = readJson<GuardianSet>(path, `${custodian}'s guardian set`);
  verifySet(set, custodian, signingKeysOf(roster, custodian), path);
  return set;
}

export interface GuardianShareAtHand {
  envelope: ShareEnvelope;
  guardian: Identity;
  path: string;
  what: string; // names the share file in errors
}

/**
 * A guardian's share file, checked against the custodian's current set, and the guardian's
 * unlocked identity that opens it. Files are checked before anyone is asked for a passphrase.
 */
export async function guardianShareAtHand(
  ws: Workspace,
  roster: Roster,
  operator: Operator,
  set: GuardianSet,
  guardian: string,
  paths: { share?: string; identity?: string },
): Promise<GuardianShareAtHand> {
  const path = paths.share ?? ws.guardianShareFile(guardian, set.custodian);
  const what = `the guardian share of ${guardian} (${path})`;
  const envelope = readJson<ShareEnvelope>(path, `the guardian share of ${guardian}`);
  verifyEnvelope(envelope, set, what);
  const id = await unlockPerson(ws, roster, operator, guardian, 'guardian', paths.identity);
  return { envelope, guardian: id, path, what };
}

/** Which custodian each guardian already serves, from the sets on disk. */
export function servedBy(ws: Workspace): Map<string, string> {
  const served = new Map<string, string>();
  let custodians: string[] = [];
  try {
    custodians = readdirSync(join(ws.root, 'guardians'));
  } catch {
    return served;
  }
  for (const c of custodians) {
    const set = readJson<GuardianSet>(ws.guardianSetFile(c), `${c}'s guardian set`);
    for (const g of set.guardians) served.set(g.name, c);
  }
  return served;
}

/** Separation of duties: guardians are enrolled as guardians and serve exactly one custodian. */
export function checkGuardians(ws: Workspace, roster: Roster, custodian: string, guardians: string[]): PublicIdentity[] {
  const served = servedBy(ws);
  return guardians.map((g) => {
    const pub = member(roster, g, 'guardian');
    const other = served.get(g);
    if (other && other !== custodian) {
      throw new KeyriteError('GUARDIAN_TAKEN', `${g} already serves ${other} as guardian; a guardian serves one custodian only`);
    }
    return pub;
  });
}
