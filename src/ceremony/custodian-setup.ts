import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { KeyriteError } from '../errors.js';
import { createFile, FileExistsError } from '../fs/atomic.js';
import { withLock } from '../fs/lock.js';
import type { Workspace } from '../fs/workspace.js';
import { envelopeBytes, splitAgeKey } from '../custody/guardian-share.js';
import { loadRoster, member } from '../transcript/roster.js';
import { checkGuardians } from './guardians.js';
import type { Operator } from './operator.js';
import { unlockPerson } from './unlock.js';

export interface SetupInput {
  ws: Workspace;
  custodian: string;
  guardians: string[];
  k: number;
  identityPath?: string;
  operator: Operator;
}

export interface SetupResult {
  setId: string;
  k: number;
  m: number;
  shares: { guardian: string; index: number; path: string }[];
}

/** Splits the custodian's age key among guardians: one signed, encrypted envelope each. */
export async function setupCustodian(i: SetupInput): Promise<SetupResult> {
  const m = i.guardians.length;
  if (m < 3 || i.k < 2 || i.k > m) {
    throw new KeyriteError('BAD_POLICY', `a guardian split needs 3 or more guardians and a threshold from 2 to their number; got ${i.k}-of-${m}`, 2);
  }
  return withLock(i.ws.requireExists().root, `custodian setup ${i.custodian}`, async () => {
    const roster = loadRoster(i.ws);
    member(roster, i.custodian, 'custodian');
    const guardians = checkGuardians(i.ws, roster, i.custodian, i.guardians);
    const setFile = i.ws.guardianSetFile(i.custodian);
    const paths = i.guardians.map((g) => i.ws.guardianShareFile(g, i.custodian));
    for (const p of [setFile, ...paths]) if (existsSync(p)) throw new FileExistsError(p);
    const custodian = await unlockPerson(i.ws, roster, i.operator, i.custodian, 'custodian', i.identityPath);
    const { set, envelopes } = await splitAgeKey(custodian, guardians, i.k);
    for (const [n, e] of envelopes.entries()) {
      i.ws.mkdirs(i.ws.holdingsDir(e.guardian));
      createFile(paths[n]!, envelopeBytes(e));
    }
    // The set is written last: it is what makes the new shares the current ones.
    i.ws.mkdirs(dirname(setFile));
    createFile(setFile, JSON.stringify(set, null, 2) + '\n', 0o644);
    return { setId: set.setId, k: set.k, m: set.m, shares: envelopes.map((e, n) => ({ guardian: e.guardian, index: e.index, path: paths[n]! })) };
  });
}
