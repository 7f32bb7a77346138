import { sha256Hex } from '../base/canonical.js';
import type { Workspace } from '../fs/workspace.js';
import type { Sealed } from '../evidence/writer.js';
import { keyRecordBytes } from '../state/cache.js';
import { endKey, type KeyRecord } from '../state/key-record.js';
import { recordApprovals, takeApprovals, writeRequest, type ActInput, type ApprovalInput, type WrittenRequest } from './approve.js';
import type { Operator } from './kernel/operator.js';
import { withSession, type IdentityPaths } from './kernel/session.js';

// Retiring a key (CEREMONY.md, "Retiring a key"): the key never signs or exports again; nodes
// and `sign` refuse it from the fold's status. Approved by the policy's quorum of custodians,
// from approval files made on their own devices (the request written first by `requestRetire`)
// or typed in the room, counted by the fold's rules (src/state/approvals.ts). Records, in order:
// ceremony.start, the confirmations, one approval per approver, key.retire (naming the request
// it consumes, and the rewritten keys/<K>.json as its subject), ceremony.seal (generator and
// witness).

const SCRIPT = 'key-retire';

interface Common {
  ws: Workspace;
  keyId: string;
  operator: Operator;
}

export interface RetireInput extends Common, ApprovalInput {
  witness?: string;
  identities: IdentityPaths;
}

export interface RetireResult {
  record: KeyRecord;
  request: string;
  approvers: string[];
  ceremony: string;
  sealed: Sealed;
}

/** What the approvers approve: retiring this key at its current epoch. */
const actOf = (r: KeyRecord): ActInput => ({ target: r.keyId, parameters: { epoch: r.epoch } });

/** `key retire --request-out`: the request written for the approvers' own devices; nothing recorded. */
export function requestRetire(i: Common & { out: string; ttlMs: number }): Promise<WrittenRequest & { keyId: string }> {
  return withSession({ ws: i.ws, operator: i.operator, label: `request retiring ${i.keyId}` }, async (s) => {
    const r = s.key(i.keyId);
    return { ...writeRequest(s, SCRIPT, actOf(r), { out: i.out, ttlMs: i.ttlMs }), keyId: r.keyId };
  });
}

/** `key retire`: the approvals checked before anyone else unlocks, then recorded ahead of key.retire. */
export function retireKey(i: RetireInput): Promise<RetireResult> {
  return withSession({ ws: i.ws, operator: i.operator, label: `retire ${i.keyId}` }, async (s) => {
    const r = s.key(i.keyId);
    const gathered = await takeApprovals(s, SCRIPT, actOf(r), i, `retiring key ${r.keyId}`);
    const generator = await s.unlockSole('generator', { identities: i.identities });
    const witness = await s.unlockSole('witness', { name: i.witness, identities: i.identities });
    const retired = endKey(r, 'retired');
    await s.checklist(SCRIPT, 'ceremony.start');
    await s.checklist(SCRIPT, 'key.retire', `key ${r.label} (${r.keyId}), ${r.engine}, public key ${r.publicKey}`);
    const out = await s.run({ script: SCRIPT, actor: generator, params: { keyId: r.keyId, epoch: r.epoch } }, async (c) => {
      await recordApprovals(s, c, gathered.approvals);
      // Its checklist was asked before the ceremony opened. The subject is the cache the session
      // rewrites from the fold once this entry is in it.
      await c.record({
        step: 'key.retire',
        actor: generator,
        params: { keyId: r.keyId, target: r.keyId, epoch: r.epoch, request: gathered.digest },
        subjects: [{ name: i.ws.relative(i.ws.keyFile(r.keyId)), sha256: sha256Hex(keyRecordBytes(retired)) }],
      });
      return {};
    }, [witness]);
    const approvers = gathered.approvals.map((g) => g.approval.approver);
    return { record: retired, request: gathered.digest, approvers, ceremony: out.ceremony, sealed: out.sealed };
  });
}
