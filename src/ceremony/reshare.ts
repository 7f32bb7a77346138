import { KeyriteError } from '../base/errors.js';
import type { Identity } from '../custody/identity.js';
import { sessionIdOf, type SessionParams } from '../engine/index.js';
import type { Ceremony } from '../evidence/writer.js';
import type { NodeClient } from '../node/client.js';
import type { KeyRecord, PartyAssignment } from '../state/key-record.js';
import { member, type Roster } from '../state/roster.js';
import { recordApprovals, takeApprovals, writeRequest, type ActInput, type Gathered, type WrittenRequest } from './approve.js';
import { exportShares, receiptSigners, type ExportResult } from './export.js';
import { attestEmpty, connectEmpty, inProcess } from './kernel/nodes.js';
import { handIn, keepShares, runShares } from './kernel/runs.js';
import { withSession, type Session } from './kernel/session.js';
import { openShards, type OpenedShard } from './kernel/shards.js';
import { nextEpoch, recordEpochChange, type RefreshInput, type RefreshResult } from './refresh.js';

// Reshare (CEREMONY.md, "Resharing a key"; src/engine/reshare.ts): t current holders, the
// dealers, hand their shares to their nodes just in time and deal the same secret afresh to a
// new set of custodians under a new threshold — a custodian joins or leaves, the threshold
// changes, a lost shard is replaced. Same public key and addresses, next epoch; shards of the
// old epoch, the leaver's included, no longer sign. A custodian who stays keeps their node; a
// new one takes the first node no staying custodian runs. The new holders open their shards and
// sign receipts, each node deletes its copy, and every node that only dealt attests that it
// holds nothing. Approved by the policy's quorum, witnessed. Records, in order: ceremony.start,
// the confirmations, approvals, reshare.intent (consuming the quorum), one reshare.request per
// dealer, one reshare.share per new holder's node, reshare.result (the new key record), the
// export steps (export.ts), one node.attest per node that only dealt, ceremony.seal.

const SCRIPT = 'reshare';

export interface ReshareTarget {
  /** The new holders, in the order their parties take. */
  custodians: string[];
  /** The new threshold (default: the key's). */
  threshold?: number;
  /** The old holders who deal (default: the first t of the key's custodians, in party order). */
  dealers?: string[];
}

export type ReshareInput = RefreshInput & ReshareTarget;

export interface ReshareResult extends RefreshResult {
  custodians: string[];
  threshold: number;
  dealers: string[];
}

interface Plan {
  parties: PartyAssignment[];
  threshold: number;
  dealers: string[]; // custodians
}

const actOf = (r: KeyRecord, p: Plan): ActInput => ({ target: r.keyId, parameters: { epoch: r.epoch, custodians: p.parties.map((x) => x.custodian), threshold: p.threshold } });

/** `reshare --request-out`: the request for this very reshare, written for the approvers' own devices; nothing recorded. */
export function requestReshare(i: Pick<ReshareInput, 'ws' | 'keyId' | 'operator'> & ReshareTarget & { out: string; ttlMs: number }): Promise<WrittenRequest & { keyId: string }> {
  return withSession({ ws: i.ws, operator: i.operator, label: `request resharing ${i.keyId}` }, async (s) => {
    const r = s.key(i.keyId);
    return { ...writeRequest(s, SCRIPT, actOf(r, plan(s.roster, r, i)), { out: i.out, ttlMs: i.ttlMs }), keyId: r.keyId };
  });
}

/**
 * The new assignment, threshold and dealers, checked before anyone unlocks: each new holder a
 * custodian in the roster, on the node they run now or else the first free one; t' from 2 to
 * the number of new holders; at least t distinct dealers, each an old holder.
 */
function plan(roster: Roster, r: KeyRecord, t: ReshareTarget): Plan {
  const usage = (why: string) => new KeyriteError('BAD_POLICY', `resharing key ${r.keyId}: ${why}`);
  const named = t.custodians;
  if (new Set(named).size !== named.length) throw usage('a custodian is named twice');
  const threshold = t.threshold ?? r.threshold;
  if (threshold < 2 || threshold > named.length) throw usage(`a threshold from 2 to the number of new holders is needed; got ${threshold}-of-${named.length}`);
  if (named.length > roster.nodes.length) throw usage(`${named.length} new holders but only ${roster.nodes.length} signing nodes`);
  const stays = new Map(r.parties.filter((p) => named.includes(p.custodian)).map((p) => [p.custodian, p.node]));
  const free = roster.nodes.map((n) => n.name).filter((n) => ![...stays.values()].includes(n));
  const byNode = new Map<string, string>();
  for (const c of named) byNode.set(stays.get(c) ?? free.shift()!, c);
  const parties = roster.nodes.filter((n) => byNode.has(n.name)).map((n) => {
    const c = member(roster, byNode.get(n.name)!, 'custodian');
    return { party: n.name, node: n.name, custodian: c.name, recipient: c.recipient, fingerprint: c.fingerprint };
  });
  const holders = r.parties.map((p) => p.custodian);
  const dealers = t.dealers ?? holders.slice(0, r.threshold);
  if (new Set(dealers).size !== dealers.length) throw usage('a dealer is named twice');
  const strangers = dealers.filter((d) => !holders.includes(d));
  if (strangers.length) throw new KeyriteError('BAD_DEALERS', `${strangers.join(', ')} hold${strangers.length === 1 ? 's' : ''} no party of key ${r.keyId}; its dealers are among ${holders.join(', ')}`);
  if (dealers.length < r.threshold) throw new KeyriteError('BAD_DEALERS', `key ${r.keyId} needs ${r.threshold} of its holders to deal; ${dealers.length} named (${dealers.join(', ')})`);
  return { parties, threshold, dealers };
}

export function reshareKey(i: ReshareInput): Promise<ReshareResult> {
  return withSession({ ws: i.ws, operator: i.operator, label: `reshare ${i.keyId}` }, async (s) => {
    const r = s.key(i.keyId);
    const p = plan(s.roster, r, i);
    const gathered = await takeApprovals(s, SCRIPT, actOf(r, p), i, `resharing key ${r.keyId}`);
    const generator = await s.unlockSole('generator', { identities: i.identities });
    const witness = await s.unlockSole('witness', { name: i.witness, identities: i.identities });
    const dealerNodes = r.parties.filter((x) => p.dealers.includes(x.custodian)).map((x) => x.node);
    const holderNodes = p.parties.map((x) => x.node);
    const ids = [...new Set([...dealerNodes, ...holderNodes])];
    const nodes = await connectEmpty(i.connect ?? inProcess(i.ws), s.state, r, ids, generator);
    const to = `${p.parties.map((x) => x.custodian).join(', ')}, ${p.threshold}-of-${p.parties.length}, epoch ${r.epoch} → ${r.epoch + 1}`;
    const opened = await openShards(s, r, r.parties.filter((x) => p.dealers.includes(x.custodian)).map((x) => x.custodian), i, {
      script: SCRIPT, step: 'reshare.request', context: (name) => `${name}: key ${r.label} (${r.keyId}) to ${to}`,
    });
    const signers = await newHolders(s, i, p, opened);
    const out = await s.run({ script: SCRIPT, actor: generator, params: { keyId: r.keyId, epoch: r.epoch } }, (c) => deal(c, s, i, r, p, nodes, { dealerNodes, holderNodes }, opened, gathered, signers), [witness]);
    const rec = out.record;
    return {
      keyId: rec.keyId, engine: rec.engine, publicKey: rec.publicKey, addresses: rec.addresses, epochBefore: r.epoch, epoch: rec.epoch, record: rec, export: out.export,
      custodians: p.parties.map((x) => x.custodian), threshold: p.threshold, dealers: p.dealers,
      request: gathered.digest, approvers: gathered.approvals.map((g) => g.approval.approver), ceremony: out.ceremony, sealed: out.sealed,
    };
  });
}

/** The new holders here to sign receipts: the dealers among them already unlocked, the rest asked now (absent: their node keeps its share). */
async function newHolders(s: Session, i: ReshareInput, p: Plan, opened: OpenedShard[]): Promise<Map<string, Identity>> {
  const unlocked = new Map(opened.map((o) => [o.custodian.name, o.custodian]));
  const names = p.parties.map((x) => x.custodian);
  const others = await receiptSigners(s, names.filter((c) => !unlocked.has(c)), i.identities);
  return new Map(names.flatMap((c) => {
    const id = unlocked.get(c) ?? others.get(c);
    return id ? [[c, id] as const] : [];
  }));
}

async function deal(
  c: Ceremony, s: Session, i: ReshareInput, r: KeyRecord, p: Plan, nodes: NodeClient[], ids: { dealerNodes: string[]; holderNodes: string[] },
  opened: OpenedShard[], gathered: Gathered, signers: Map<string, Identity>,
): Promise<{ record: KeyRecord; export: ExportResult }> {
  await recordApprovals(s, c, gathered.approvals);
  const session: SessionParams = {
    engine: r.engine, keyId: r.keyId, epoch: r.epoch, participants: ids.holderNodes, dealers: ids.dealerNodes, t: p.threshold, n: p.parties.length, ceremonyId: c.id, rosterDigest: s.state.rosterDigest,
  };
  const sessionId = sessionIdOf(session);
  const custodians = p.parties.map((x) => x.custodian);
  await c.record({ step: 'reshare.intent', actor: c.actor, params: { keyId: r.keyId, target: r.keyId, epoch: r.epoch, custodians, threshold: p.threshold, dealers: p.dealers, request: gathered.digest, sessionId } });
  const inputs = await handIn(c, s, opened, 'reshare', session);
  const pkg = await runShares(i.operator, s, nodes, session, 'reshare', (n) => inputs.get(n.id) ?? {}, `Resharing key ${r.label} to ${custodians.join(', ')}`, r.publicPackage);
  const record = await nextEpoch(nodes, session, r, pkg, p.parties);
  const holders = nodes.filter((n) => ids.holderNodes.includes(n.id));
  await keepShares(c, holders, session, pkg, 'reshare.share');
  await recordEpochChange(c, 'reshare.result', r, record, { custodians, threshold: p.threshold, dealers: p.dealers, sessionId });
  const exported = await exportShares(c, s, c.actor, record, holders, { deleteAfter: true, signers });
  await attestEmpty(c, nodes.filter((n) => !ids.holderNodes.includes(n.id)), r.keyId, 'dealing');
  return { record, export: exported };
}
