import { join } from 'node:path';
import { KeyriteError } from '../base/errors.js';
import { createFile } from '../fs/atomic.js';
import { withLock } from '../fs/lock.js';
import { sha256Hex } from '../base/canonical.js';
import { confirmFirst, inCeremony } from './evidence.js';
import type { Workspace } from '../fs/workspace.js';
import { isRecipient } from '../base/age.js';
import { releaseShare } from '../custody/release.js';
import { loadRoster } from '../state/roster.js';
import { guardianShareAtHand, loadSet } from './guardians.js';
import type { Operator } from './operator.js';

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
  if (!isRecipient(i.to)) throw new KeyriteError('BAD_RECIPIENT', `"${i.to}" is not an age X25519 recipient (age1…)`);
  if (!/^[0-9a-f]{16}$/.test(i.session)) throw new KeyriteError('BAD_SESSION', `"${i.session}" is not a recovery session id (16 hex digits)`);
  const roster = loadRoster(i.ws);
  const set = loadSet(i.ws, roster, i.custodian);
  const { envelope, guardian, what } = await guardianShareAtHand(i.ws, roster, i.operator, set, i.guardian, { share: i.sharePath, identity: i.identityPath });
  await i.operator.confirm(`Release ${i.guardian}'s share of ${i.custodian}'s key to recovery session ${i.session} (recipient ${i.to})?`);
  const confirmed = await confirmFirst(i.operator, 'guardian-release');
  const released = await releaseShare(envelope, guardian, i.session, i.to, what);
  const dir = i.out ?? i.ws.holdingsDir(i.guardian);
  const out = join(dir, releasedFileName(i.guardian, i.session));
  const bytes = JSON.stringify(released, null, 2) + '\n';
  return withLock(i.ws.root, `guardian release ${i.guardian}`, () =>
    inCeremony(i.ws, i.operator, { script: 'guardian-release', actor: guardian, params: { custodian: i.custodian, session: i.session } }, async (c) => {
      i.ws.mkdirs(dir);
      createFile(out, bytes);
      await c.record({
        step: 'recover.release',
        actor: guardian,
        subjects: [{ name: `${releasedFileName(i.guardian, i.session)}`, sha256: sha256Hex(bytes) }],
        params: { custodian: i.custodian, session: i.session, to: i.to, setId: set.setId, index: envelope.index },
      });
      return { path: out, index: envelope.index };
    }, [], confirmed),
  );
}
