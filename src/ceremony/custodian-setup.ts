import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { createFile, FileExistsError } from '../fs/atomic.js';
import type { Workspace } from '../fs/workspace.js';
import { envelopeBytes, shareRoleName, splitAgeKey, type GuardianSet, type ShareEnvelope } from '../custody/guardian-share.js';
import type { Identity } from '../custody/identity.js';
import type { Ceremony, Sealed } from '../evidence/writer.js';
import type { Policy } from '../state/policy.js';
import { member } from '../state/roster.js';
import { checkGuardians } from './guardians.js';
import type { Operator } from './kernel/operator.js';
import { withSession } from './kernel/session.js';

// custodian setup: the custodian's age key split k-of-m among guardians (docs/ARCHITECTURE.md §1 step 2).
// Records, in order: ceremony.start, the checklist confirmations, custodian.setup (the set file
// by its path, and every share by its role, keyrite:share/<guardian>/<setId>, since the guardian
// carries it away: docs/ARCHITECTURE.md §6), ceremony.seal. Only the age key is split.

export interface SetupInput {
  ws: Workspace;
  custodian: string;
  guardians: string[];
  k?: number; // must equal the policy's, when given
  identityPath?: string;
  operator: Operator;
}

export interface SetupResult {
  setId: string;
  k: number;
  m: number;
  shares: { guardian: string; index: number; path: string }[];
}

/** The split is the roster's policy, k of m, exactly: the sealed policy is what the quorum agreed to. */
export function checkSplit(policy: Policy, k: number | undefined, m: number): void {
  const want = `${policy.guardianThreshold}-of-${policy.guardians}`;
  if ((k ?? policy.guardianThreshold) !== policy.guardianThreshold || m !== policy.guardians) {
    throw new KeyriteError('BAD_POLICY', `the roster's policy splits a custodian's key ${want}; ${k ?? policy.guardianThreshold}-of-${m} was asked`);
  }
}

/** Splits the custodian's age key among guardians: one signed, encrypted envelope each. */
export async function setupCustodian(i: SetupInput): Promise<SetupResult & { sealed: Sealed }> {
  return withSession({ ws: i.ws, operator: i.operator, label: `custodian setup ${i.custodian}` }, async (s) => {
    checkSplit(s.roster.policy, i.k, i.guardians.length);
    member(s.roster, i.custodian, 'custodian');
    const guardians = checkGuardians(s.state, i.custodian, i.guardians);
    const setFile = i.ws.guardianSetFile(i.custodian);
    const paths = i.guardians.map((g) => i.ws.guardianShareFile(g, i.custodian));
    for (const p of [setFile, ...paths]) if (existsSync(p)) throw new FileExistsError(p);
    const custodian = await s.unlock(i.custodian, 'custodian', i.identityPath ? new Map([[i.custodian, i.identityPath]]) : undefined);
    const { set, envelopes } = await splitAgeKey(custodian, guardians, s.roster.policy.guardianThreshold);
    await s.checklist('custodian-setup', 'ceremony.start');
    await s.checklist('custodian-setup', 'custodian.setup');
    return s.run({ script: 'custodian-setup', actor: custodian, params: { custodian: i.custodian, guardians: i.guardians, k: set.k } }, (c) => recordSet(c, custodian, set, envelopes));
  });
}

/**
 * Writes a new set's share files (each guardian's standard path) and then its set file, and
 * records custodian.setup, signed by the custodian: custodian setup, and a rotation's new set.
 * Every path must be free (checked by the caller before anything is asked).
 */
export async function recordSet(c: Ceremony, custodian: Identity, set: GuardianSet, envelopes: ShareEnvelope[]): Promise<SetupResult> {
  const ws = c.ws;
  const setFile = ws.guardianSetFile(custodian.name);
  const paths = envelopes.map((e) => ws.guardianShareFile(e.guardian, custodian.name));
  const subjects = envelopes.map((e, n) => {
    ws.mkdirs(ws.holdingsDir(e.guardian));
    const bytes = envelopeBytes(e);
    createFile(paths[n]!, bytes);
    return { name: shareRoleName(e.guardian, set.setId), sha256: sha256Hex(bytes) };
  });
  // The set is written last: it is what makes the new shares the current ones.
  const setBytes = JSON.stringify(set, null, 2) + '\n';
  ws.mkdirs(dirname(setFile));
  createFile(setFile, setBytes, 0o644);
  const guardians = envelopes.map((e) => e.guardian);
  await c.record({
    step: 'custodian.setup',
    actor: custodian,
    subjects: [{ name: ws.relative(setFile), sha256: sha256Hex(setBytes) }, ...subjects],
    params: { custodian: custodian.name, setId: set.setId, k: set.k, m: set.m, guardians },
  });
  return { setId: set.setId, k: set.k, m: set.m, shares: envelopes.map((e, n) => ({ guardian: e.guardian, index: e.index, path: paths[n]! })) };
}
