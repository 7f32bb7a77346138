import { relative } from 'node:path';
import { sha256Hex } from '../base/canonical.js';
import { withLock } from '../fs/lock.js';
import { readBytes, type Workspace } from '../fs/workspace.js';
import type { Sealed } from '../evidence/writer.js';
import { inCeremony, step } from './evidence.js';
import { openShare } from '../custody/guardian-share.js';
import { loadRoster } from '../state/roster.js';
import { guardianShareAtHand, loadSet } from './guardians.js';
import type { Operator } from './operator.js';

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
export async function checkGuardianShare(i: GuardianCheckInput): Promise<GuardianCheckResult & { sealed: Sealed }> {
  const roster = loadRoster(i.ws);
  const set = loadSet(i.ws, roster, i.custodian);
  const { envelope, guardian, path, what } = await guardianShareAtHand(i.ws, roster, i.operator, set, i.guardian, { share: i.sharePath, identity: i.identityPath });
  (await openShare(envelope, guardian, what)).fill(0);
  const result = { guardian: i.guardian, custodian: i.custodian, setId: set.setId, index: envelope.index, k: set.k, m: set.m, path };
  return withLock(i.ws.root, `guardian check ${i.guardian}`, () =>
    inCeremony(i.ws, i.operator, { script: 'guardian-check', actor: guardian, params: { custodian: i.custodian } }, async (c) => {
      await step(c, i.operator, {
        step: 'drill.result',
        actor: guardian,
        subjects: [{ name: relative(i.ws.root, path), sha256: sha256Hex(readBytes(path)) }],
        params: { drill: 'guardian-check', custodian: i.custodian, setId: set.setId, index: envelope.index },
        result: { ok: true },
      });
      return result;
    }),
  );
}
