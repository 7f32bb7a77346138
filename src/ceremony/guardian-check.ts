import type { Workspace } from '../fs/workspace.js';
import { openShare, verifyEnvelope } from '../custody/guardian-share.js';
import { loadRoster } from '../transcript/roster.js';
import { loadEnvelope, loadSet } from './guardians.js';
import type { Operator } from './operator.js';
import { unlockPerson } from './unlock.js';

export interface GuardianCheckInput {
  ws: Workspace;
  guardian: string;
  custodian: string;
  sharePath?: string;
  identityPath?: string;
  operator: Operator;
}

export interface GuardianCheckResult {
  guardian: string;
  custodian: string;
  setId: string;
  index: number;
  k: number;
  m: number;
  path: string;
}

/** A drill: the guardian's share opens with their identity and belongs to the current set. Nothing is revealed or used. */
export async function checkGuardianShare(i: GuardianCheckInput): Promise<GuardianCheckResult> {
  const roster = loadRoster(i.ws);
  const set = loadSet(i.ws, roster, i.custodian);
  const path = i.sharePath ?? i.ws.guardianShareFile(i.guardian, i.custodian);
  const what = `the guardian share of ${i.guardian} (${path})`;
  const envelope = loadEnvelope(path, i.guardian);
  verifyEnvelope(envelope, set, what);
  const guardian = await unlockPerson(i.ws, roster, i.operator, i.guardian, 'guardian', i.identityPath);
  (await openShare(envelope, guardian, what)).fill(0);
  return { guardian: i.guardian, custodian: i.custodian, setId: set.setId, index: envelope.index, k: set.k, m: set.m, path };
}
