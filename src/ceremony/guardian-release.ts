import { join } from 'node:path';
import { sha256Hex } from '../base/canonical.js';
import { isRecipient } from '../base/age.js';
import { KeyriteError } from '../base/errors.js';
import { createFile } from '../fs/atomic.js';
import type { Workspace } from '../fs/workspace.js';
import { releaseShare } from '../custody/release.js';
import { checkSessionId, guardianShareAtHand, loadSet } from './guardians.js';
import type { Operator } from './kernel/operator.js';
import { withSession } from './kernel/session.js';

// guardian release: on the guardian's own device, the guardian's share is opened and
// re-encrypted to a recovery session's one-off recipient; the guardian's identity never leaves
// the device. Records, in order: ceremony.start, the confirmations (the release itself, then the
// script's checklist), recover.release (the released file as subject), ceremony.seal.

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

export async function releaseGuardianShare(i: ReleaseInput): Promise<{ path: string; index: number }> {
  if (!isRecipient(i.to)) throw new KeyriteError('BAD_RECIPIENT', `"${i.to}" is not an age X25519 recipient (age1…)`);
  checkSessionId(i.session);
  return withSession({ ws: i.ws, operator: i.operator, label: `guardian release ${i.guardian}` }, async (s) => {
    const set = loadSet(i.ws, s.state, i.custodian);
    const { envelope, guardian, what } = await guardianShareAtHand(s, set, i.guardian, { share: i.sharePath, identity: i.identityPath });
    await s.confirm(`Release ${i.guardian}'s share of ${i.custodian}'s key to recovery session ${i.session} (recipient ${i.to})?`, guardian);
    await s.checklist('guardian-release', 'ceremony.start', undefined, guardian);
    const released = await releaseShare(envelope, guardian, i.session, i.to, what);
    const dir = i.out ?? i.ws.holdingsDir(i.guardian);
    const out = join(dir, releasedFileName(i.guardian, i.session));
    const bytes = JSON.stringify(released, null, 2) + '\n';
    return s.run({ script: 'guardian-release', actor: guardian, params: { custodian: i.custodian, session: i.session } }, async (c) => {
      i.ws.mkdirs(dir);
      createFile(out, bytes);
      await c.record({
        step: 'recover.release',
        actor: guardian,
        subjects: [{ name: releasedFileName(i.guardian, i.session), sha256: sha256Hex(bytes) }],
        params: { custodian: i.custodian, session: i.session, to: i.to, setId: set.setId, index: envelope.index },
      });
      return { path: out, index: envelope.index };
    });
  });
}
