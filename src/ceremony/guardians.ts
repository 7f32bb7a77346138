import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KeyriteError } from '../errors.js';
import { readJson, type Workspace } from '../fs/workspace.js';
import type { PublicIdentity } from '../custody/identity.js';
import { verifySet, type GuardianSet, type ShareEnvelope } from '../custody/guardian-share.js';
import { member, signingKeysOf, type Roster } from '../transcript/roster.js';

// Reading guardian sets and share envelopes from disk, checked against the roster.

export function loadSet(ws: Workspace, roster: Roster, custodian: string): GuardianSet {
  member(roster, custodian, 'custodian');
  const path = ws.guardianSetFile(custodian);
  const set = readJson<GuardianSet>(path, `${custodian}'s guardian set`);
  verifySet(set, custodian, signingKeysOf(roster, custodian), path);
  return set;
}

export function loadEnvelope(path: string, guardian: string): ShareEnvelope {
  return readJson<ShareEnvelope>(path, `the guardian share of ${guardian}`);
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
