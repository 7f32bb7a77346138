import { sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import type { Workspace } from '../fs/workspace.js';
import { sessionIdOf, type PublicPackage, type SessionParams } from '../engine/index.js';
import type { Ceremony, Sealed } from '../evidence/writer.js';
import type { NodeClient } from '../node/client.js';
import { keyRecordBytes } from '../state/cache.js';
import { advanceEpoch, type KeyRecord } from '../state/key-record.js';
import { recordApprovals, takeApprovals, writeRequest, type ActInput, type ApprovalInput, type Gathered, type WrittenRequest } from './approve.js';
import { exportShares, type ExportResult } from './export.js';
import { connectEmpty, inProcess, type NodeConnector } from './kernel/nodes.js';
import type { Operator } from './kernel/operator.js';
import { handIn, keepShares, runShares } from './kernel/runs.js';
import { withSession, type Session } from './kernel/session.js';
import { openShards, type OpenedShard, type ShardSources } from './kernel/shards.js';

// Proactive refresh (CEREMONY.md, "Refreshing a key"; src/engine/refresh.ts): every custodian of
// the key opens their shard and hands its share to their node just in time, under their signed
// request for this run; the nodes deal zero-constant, Feldman-checked sub-shares and each keeps
// its new share; the key moves to the next epoch with the same public key and addresses; the new
// shares go to the same custodians, who open them and sign receipts, and every node deletes its
// copy. Old shards no longer match the key record, so nodes and `sign` refuse them, and old and
// new shares do not combine. Approved by the policy's quorum, witnessed. Records, in order:
// ceremony.start, the confirmations, one approval per approver, refresh.intent (consuming the
// quorum), one refresh.request per custodian, one refresh.share per node, refresh.result (the
// new key record), the export steps (export.ts), ceremony.seal. Until refresh.result is on
// record the old epoch stands; a node drops a share of an epoch that never came (node.ts).

const SCRIPT = 'refresh';

interface Common {
  ws: Workspace;
  keyId: string;
  operator: Operator;
}

export interface RefreshInput extends Common, ApprovalInput, ShardSources {
  witness?: string;
  connect?: NodeConnector;
}

/** A key's public face, before and after an epoch change: what must not move. */
export interface EpochChange {
  keyId: string;
  engine: string;
  publicKey: string;
  addresses: Record<string, string>;
  epochBefore: number;
  epoch: number;
}

export interface RefreshResult extends EpochChange {
  record: KeyRecord;
  export: ExportResult;
  request: string;
  approvers: string[];
  ceremony: string;
  sealed: Sealed;
}

const actOf = (r: KeyRecord): ActInput => ({ target: r.keyId, parameters: { epoch: r.epoch } });

/** `refresh --request-out`: the request written for the approvers' own devices; nothing recorded. */
export function requestRefresh(i: Common & { out: string; ttlMs: number }): Promise<WrittenRequest & { keyId: string }> {
  return withSession({ ws: i.ws, operator: i.operator, label: `request refreshing ${i.keyId}` }, async (s) => {
    const r = s.key(i.keyId);
    return { ...writeRequest(s, SCRIPT, actOf(r), { out: i.out, ttlMs: i.ttlMs }), keyId: r.keyId };
  });
}

export function refreshKey(i: RefreshInput): Promise<RefreshResult> {
  return withSession({ ws: i.ws, operator: i.operator, label: `refresh ${i.keyId}` }, async (s) => {
    const r = s.key(i.keyId);
    const gathered = await takeApprovals(s, SCRIPT, actOf(r), i, `refreshing key ${r.keyId}`);
    const generator = await s.unlockSole('generator', { identities: i.identities });
    const witness = await s.unlockSole('witness', { name: i.witness, identities: i.identities });
    const nodeIds = r.parties.map((p) => p.node);
    const nodes = await connectEmpty(i.connect ?? inProcess(i.ws), s.state, r, nodeIds, generator);
    const custodians = r.parties.map((p) => p.custodian);
    const next = `${r.epoch} → ${r.epoch + 1}`;
    const opened = await openShards(s, r, custodians, i, { script: SCRIPT, step: 'refresh.request', context: (name) => `${name}: key ${r.label} (${r.keyId}), epoch ${next}` });
    const out = await s.run({ script: SCRIPT, actor: generator, params: { keyId: r.keyId, epoch: r.epoch } }, (c) => renew(c, s, i, r, nodes, opened, gathered), [witness]);
    const rec = out.record;
    return {
      keyId: rec.keyId, engine: rec.engine, publicKey: rec.publicKey, addresses: rec.addresses, epochBefore: r.epoch, epoch: rec.epoch, record: rec, export: out.export,
      request: gathered.digest, approvers: gathered.approvals.map((g) => g.approval.approver), ceremony: out.ceremony, sealed: out.sealed,
    };
  });
}

/** Inside the ceremony: approvals, the intent, the run, the new record, and the export with receipts and deletion. */
async function renew(c: Ceremony, s: Session, i: RefreshInput, r: KeyRecord, nodes: NodeClient[], opened: OpenedShard[], gathered: Gathered): Promise<{ record: KeyRecord; export: ExportResult }> {
  await recordApprovals(s, c, gathered.approvals);
  const session: SessionParams = {
    engine: r.engine, keyId: r.keyId, epoch: r.epoch, participants: r.parties.map((p) => p.node), t: r.threshold, n: r.parties.length, ceremonyId: c.id, rosterDigest: s.state.rosterDigest,
  };
  const sessionId = sessionIdOf(session);
  await c.record({ step: 'refresh.intent', actor: c.actor, params: { keyId: r.keyId, target: r.keyId, epoch: r.epoch, request: gathered.digest, sessionId } });
  const inputs = await handIn(c, s, opened, 'refresh', session);
  const pkg = await runShares(i.operator, s, nodes, session, 'refresh', (n) => inputs.get(n.id)!, `Refreshing key ${r.label} among ${session.participants.join(', ')}`);
  const record = await nextEpoch(nodes, session, r, pkg);
  await keepShares(c, nodes, session, pkg, 'refresh.share');
  await recordEpochChange(c, 'refresh.result', r, record, { sessionId });
  const signers = new Map(opened.map((o) => [o.custodian.name, o.custodian]));
  return { record, export: await exportShares(c, s, c.actor, record, nodes, { deleteAfter: true, signers }) };
}

/**
 * The key record of the epoch a refresh or reshare made: the run's public package, on the same
 * public key (and internal key), one epoch on — checked before any node keeps a share, so a run
 * that moved the key leaves nothing behind. `parties`: the new assignment (a reshare's).
 */
export async function nextEpoch(nodes: NodeClient[], session: SessionParams, r: KeyRecord, pkg: PublicPackage, parties = r.parties): Promise<KeyRecord> {
  const internal = pkg.internalKey === undefined ? {} : { internalKey: pkg.internalKey };
  const { internalKey: _old, ...rest } = r;
  const record: KeyRecord = { ...rest, ...internal, epoch: pkg.epoch, threshold: pkg.threshold, parties, publicPackage: pkg };
  try {
    if (pkg.groupPublicKey !== r.publicKey) throw new KeyriteError('DKG_DISAGREEMENT', `the run made shares of public key ${pkg.groupPublicKey}, not key ${r.keyId}'s ${r.publicKey}; nothing was kept`);
    return advanceEpoch(r, record);
  } catch (e) {
    await Promise.all(nodes.map((n) => n.abort(sessionIdOf(session))));
    throw e;
  }
}

/** The epoch change on record: the new key record whole, its cache as the subject. */
export async function recordEpochChange(c: Ceremony, step: string, before: KeyRecord, record: KeyRecord, params: Record<string, unknown>): Promise<void> {
  await c.record({
    step,
    actor: c.actor,
    params: { keyId: record.keyId, epochBefore: before.epoch, epoch: record.epoch, ...params },
    result: { keyId: record.keyId, publicKey: record.publicKey, epoch: record.epoch, addresses: record.addresses, record },
    subjects: [{ name: c.ws.relative(c.ws.keyFile(record.keyId)), sha256: sha256Hex(keyRecordBytes(record)) }],
  });
}
