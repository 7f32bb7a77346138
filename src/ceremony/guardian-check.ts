import type { Workspace } from '../fs/workspace.js';
import { openShare, shareRoleName } from '../custody/guardian-share.js';
import type { Sealed } from '../evidence/writer.js';
import { guardianShareAtHand, loadSet } from './guardians.js';
import type { Operator } from './kernel/operator.js';
import { withSession } from './kernel/session.js';

// guardian check: a drill. The guardian's share opens with their identity and belongs to the
// custodian's current set; nothing is revealed or used. Records, in order: ceremony.start, its
// checklist confirmations, drill.result (after its own checklist; naming the share by its role,
// wherever the guardian keeps it, with the digest on record), ceremony.seal.

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

export async function checkGuardianShare(i: GuardianCheckInput): Promise<GuardianCheckResult & { sealed: Sealed }> {
  return withSession({ ws: i.ws, operator: i.operator, label: `guardian check ${i.guardian}` }, async (s) => {
    const set = loadSet(i.ws, s.state, i.custodian);
    const { envelope, guardian, path, what, sha256 } = await guardianShareAtHand(s, set, i.guardian, { share: i.sharePath, identity: i.identityPath });
    (await openShare(envelope, guardian, what)).fill(0);
    const result = { guardian: i.guardian, custodian: i.custodian, setId: set.setId, index: envelope.index, k: set.k, m: set.m, path };
    return s.run({ script: 'guardian-check', actor: guardian, params: { custodian: i.custodian } }, async (c) => {
      await s.step(c, {
        step: 'drill.result',
        actor: guardian,
        subjects: [{ name: shareRoleName(i.guardian, set.setId), sha256 }],
        params: { drill: 'guardian-check', custodian: i.custodian, setId: set.setId, index: envelope.index },
        result: { ok: true },
      });
      return result;
    });
  });
}
