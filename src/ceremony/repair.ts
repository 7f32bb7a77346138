import { existsSync } from 'node:fs';
import { canonical } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { shardPath } from '../custody/shard.js';
import { FileExistsError } from '../fs/atomic.js';
import { sessionIdOf, type SessionParams } from '../engine/index.js';
import type { Ceremony, Sealed } from '../evidence/writer.js';
import type { NodeClient } from '../node/client.js';
import { assignmentOf, type KeyRecord, type PartyAssignment } from '../state/key-record.js';
import { recordApprovals, takeApprovals, writeRequest, type ActInput, type Gathered, type WrittenRequest } from './approve.js';
import { exportShares, type ExportResult } from './export.js';
import { attestEmpty, connectEmpty, inProcess } from './kernel/nodes.js';
import { handIn, keepShares, runShares } from './kernel/runs.js';
import { withSession, type Session } from './kernel/session.js';
import { openShards, type OpenedShard } from './kernel/shards.js';
import type { Identity } from '../custody/identity.js';
import type { RefreshInput } from './refresh.js';

// Share repair (CEREMONY.md, "Repairing a lost shard"; src/engine/repair.ts, frost-core's
// repairable shares): a custodian who lost their shard, but not their identity, gets the very
// same share back from t helpers, without the key being rebuilt anywhere and without any other
// share changing — the epoch stays. The helpers hand their shares to their nodes just in time;
// the custodian's node rebuilds the share, checked against the party's verifying share, keeps
// it, exports it to the custodian, who opens it and signs a receipt, then deletes it. Because
// the share is the same, a lost shard that is found again by someone else still works: use this
// only when nothing is suspected compromised, and reshare otherwise. Only the FROST engines
// repair; a lost ecdsa shard is replaced by reshare. Records, in order: ceremony.start, the
// confirmations, approvals, repair.intent (consuming the quorum), one repair.request per
// helper, repair.share (the custodian's node), repair.result, the export steps for that party,
// one node.attest per helper node, ceremony.seal.

const SCRIPT = 'repair';

export interface RepairTarget {
  /** The custodian whose shard is lost. */
  custodian: string;
  /** The holders who help, at least the key's threshold. */
  helpers: string[];
}

export type RepairInput = RefreshInput & RepairTarget;

export interface RepairResult {
  keyId: string;
  engine: string;
  epoch: number;
  publicKey: string;
  addresses: Record<string, string>;
  custodian: string;
  helpers: string[];
  export: ExportResult;
  request: string;
  approvers: string[];
  ceremony: string;
  sealed: Sealed;
}

const actOf = (r: KeyRecord, t: RepairTarget): ActInput => ({ target: r.keyId, parameters: { epoch: r.epoch, custodian: t.custodian, helpers: t.helpers } });

/** `repair --request-out`: the request for this very repair, written for the approvers' own devices; nothing recorded. */
export function requestRepair(i: Pick<RepairInput, 'ws' | 'keyId' | 'operator'> & RepairTarget & { out: string; ttlMs: number }): Promise<WrittenRequest & { keyId: string }> {
  return withSession({ ws: i.ws, operator: i.operator, label: `request repairing ${i.keyId}` }, async (s) => {
    const r = s.key(i.keyId);
    check(r, i);
    return { ...writeRequest(s, SCRIPT, actOf(r, i), { out: i.out, ttlMs: i.ttlMs }), keyId: r.keyId };
  });
}

/** Refused before anyone unlocks: an engine that cannot repair, a custodian of no party, too few or wrong helpers. */
function check(r: KeyRecord, t: RepairTarget): PartyAssignment {
  if (r.engine === 'ecdsa') throw new KeyriteError('UNKNOWN_ENGINE', `key ${r.keyId} is an ecdsa key, whose shares carry pairwise state a repair cannot rebuild; replace the lost shard with a reshare`);
  const lost = assignmentOf(r, { custodian: t.custodian });
  if (new Set(t.helpers).size !== t.helpers.length) throw new KeyriteError('BAD_DEALERS', 'a helper is named twice');
  if (t.helpers.includes(t.custodian)) throw new KeyriteError('BAD_DEALERS', `${t.custodian} lost their shard and cannot help rebuild it`);
  for (const h of t.helpers) assignmentOf(r, { custodian: h });
  if (t.helpers.length < r.threshold) throw new KeyriteError('BAD_DEALERS', `key ${r.keyId} needs ${r.threshold} helpers to rebuild a share; ${t.helpers.length} named (${t.helpers.join(', ') || 'none'})`);
  return lost;
}

export function repairShare(i: RepairInput): Promise<RepairResult> {
  return withSession({ ws: i.ws, operator: i.operator, label: `repair ${i.keyId}` }, async (s) => {
    const r = s.key(i.keyId);
    const lost = check(r, i);
    // The rebuilt shard goes where the lost one was; a file still there is not lost.
    const path = shardPath(i.ws, lost.custodian, r.keyId, r.epoch);
    if (existsSync(path)) throw new FileExistsError(path);
    const gathered = await takeApprovals(s, SCRIPT, actOf(r, i), i, `repairing ${lost.custodian}'s share of key ${r.keyId}`);
    const generator = await s.unlockSole('generator', { identities: i.identities });
    const witness = await s.unlockSole('witness', { name: i.witness, identities: i.identities });
    const helperNodes = r.parties.filter((p) => i.helpers.includes(p.custodian)).map((p) => p.node);
    const nodes = await connectEmpty(i.connect ?? inProcess(i.ws), s.state, r, [...helperNodes, lost.node], generator);
    const opened = await openShards(s, r, r.parties.filter((p) => i.helpers.includes(p.custodian)).map((p) => p.custodian), i, {
      script: SCRIPT, step: 'repair.request', context: (name) => `${name}: key ${r.label} (${r.keyId}), rebuilding ${lost.custodian}'s share of epoch ${r.epoch}`,
    });
    const owner = await s.unlock(lost.custodian, 'custodian', i.identities);
    const out = await s.run({ script: SCRIPT, actor: generator, params: { keyId: r.keyId, epoch: r.epoch } }, (c) => rebuild(c, s, i, r, lost, nodes, opened, gathered, owner), [witness]);
    return {
      keyId: r.keyId, engine: r.engine, epoch: r.epoch, publicKey: r.publicKey, addresses: r.addresses, custodian: lost.custodian, helpers: i.helpers, export: out.export,
      request: gathered.digest, approvers: gathered.approvals.map((g) => g.approval.approver), ceremony: out.ceremony, sealed: out.sealed,
    };
  });
}

async function rebuild(
  c: Ceremony, s: Session, i: RepairInput, r: KeyRecord, lost: PartyAssignment, nodes: NodeClient[], opened: OpenedShard[], gathered: Gathered, owner: Identity,
): Promise<{ export: ExportResult }> {
  await recordApprovals(s, c, gathered.approvals);
  const helperNodes = nodes.filter((n) => n.id !== lost.node);
  const session: SessionParams = {
    engine: r.engine, keyId: r.keyId, epoch: r.epoch, participants: [lost.node], dealers: helperNodes.map((n) => n.id), t: r.threshold, n: r.parties.length, ceremonyId: c.id, rosterDigest: s.state.rosterDigest,
  };
  const sessionId = sessionIdOf(session);
  await c.record({ step: 'repair.intent', actor: c.actor, params: { keyId: r.keyId, target: r.keyId, epoch: r.epoch, custodian: lost.custodian, helpers: i.helpers, party: lost.party, request: gathered.digest, sessionId } });
  const inputs = await handIn(c, s, opened, 'repair', session);
  const pkg = await runShares(i.operator, s, nodes, session, 'repair', (n) => inputs.get(n.id) ?? {}, `Rebuilding ${lost.custodian}'s share on ${lost.node}`);
  if (canonical(pkg) !== canonical(r.publicPackage)) {
    await Promise.all(nodes.map((n) => n.abort(sessionId)));
    throw new KeyriteError('WRONG_KEY', `the share ${lost.node} rebuilt does not belong to key ${r.keyId} as recorded; nothing was kept`, { node: lost.node });
  }
  const participant = nodes.filter((n) => n.id === lost.node);
  await keepShares(c, participant, session, pkg, 'repair.share');
  await c.record({ step: 'repair.result', actor: c.actor, params: { keyId: r.keyId, epoch: r.epoch, party: lost.party, custodian: lost.custodian, helpers: i.helpers, sessionId } });
  const exported = await exportShares(c, s, c.actor, r, participant, { deleteAfter: true, signers: new Map([[owner.name, owner]]) });
  await attestEmpty(c, helperNodes, r.keyId, 'helping');
  return { export: exported };
}
