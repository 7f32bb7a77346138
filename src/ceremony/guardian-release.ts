import { join } from 'node:path';
import { KeyriteError } from '../errors.js';
import { createFile } from '../fs/atomic.js';
import type { Workspace } from '../fs/workspace.js';
import { isRecipient } from '../custody/age.js';
import { verifyEnvelope } from '../custody/guardian-share.js';
import { releaseShare } from '../custody/release.js';
import { loadRoster } from '../transcript/roster.js';
import { loadEnvelope, loadSet } from './guardians.js';
import type { Operator } from './operator.js';
import { unlockPerson } from './unlock.js';

export interface ReleaseInput {
  ws: Workspace;
  guardian: string;
  custodian: string;
  session: string;
  to: string;
  sharePath?: string;
  identityPath?: string;
  out?: string;
  operator: Operator;
}

export function releasedFileName(guardian: string, session: string): string {
  return `${guardian}.release-${session}.json`;
}

/**
 * Runs on the guardian's own device: opens the share there and re-encrypts it to the
 * recovery session's one-off recipient. The guardian's identity never leaves this device.
 */
export async function releaseGuardianShare(i: ReleaseInput): Promise<{ path: string; index: number }> {
  if (!isRecipient(i.to)) throw new KeyriteError('BAD_RECIPIENT', `"${i.to}" is not an age X25519 recipient (age1…)`, 2);
  if (!/^[0-9a-f]{16}$/.test(i.session)) throw new KeyriteError('BAD_SESSION', `"${i.session}" is not a recovery session id (16 hex digits)`, 2);
  const roster = loadRoster(i.ws);
  const set = loadSet(i.ws, roster, i.custodian);
  const path = i.sharePath ?? i.ws.guardianShareFile(i.guardian, i.custodian);
  const what = `the guardian share of ${i.guardian} (${path})`;
  const envelope = loadEnvelope(path, i.guardian);
  verifyEnvelope(envelope, set, what);
  const guardian = await unlockPerson(i.ws, roster, i.operator, i.guardian, 'guardian', i.identityPath);
  await i.operator.confirm(`Release ${i.guardian}'s share of ${i.custodian}'s key to recovery session ${i.session} (recipient ${i.to})?`);
  const released = await releaseShare(envelope, guardian, i.session, i.to, what);
  const dir = i.out ?? i.ws.holdingsDir(i.guardian);
  const out = join(dir, releasedFileName(i.guardian, i.session));
  i.ws.mkdirs(dir);
  createFile(out, JSON.stringify(released, null, 2) + '\n');
  return { path: out, index: envelope.index };
}
