import { existsSync } from 'node:fs';
import { sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { faultPoint } from '../base/fault.js';
import { createFile, moveUnrecorded } from '../fs/atomic.js';
import { readBytes, type Workspace } from '../fs/workspace.js';
import type { Identity } from '../custody/identity.js';
import { shardPath, shardRoleName } from '../custody/shard.js';
import type { Ceremony, Sealed } from '../evidence/writer.js';
import type { NodeClient } from '../node/client.js';
import type { KeyRecord, PartyAssignment } from '../state/key-record.js';
import { attestEmpty, fromNode, inProcess, saying, type NodeConnector } from './kernel/nodes.js';
import type { Operator } from './kernel/operator.js';
import { withSession, type IdentityPaths, type Session } from './kernel/session.js';
import { openShardAs } from './kernel/shards.js';

// Export (docs/ARCHITECTURE.md §1 step 3, §8): each node encrypts its share to the recipient its
// key record pins for the party's custodian and signs its export.shard entry; the shard is
// written durably and read back, and only then is the node's entry recorded. With deletion, each
// custodian who is here then opens their shard with their own identity, the share inside is
// checked against the party's verifying share, and they sign export.receipt for that shard; only
// then does that node delete its copy and attest that it holds nothing for the key. A custodian
// who is not here leaves their node holding its share, and the result says so. Records, in order
// (inside keygen's ceremony, or export's own: ceremony.start, its confirmations, …,
// ceremony.seal): export.intent, one export.shard per party, then with deletion one
// export.receipt per custodian present, one node.delete per node whose custodian signed one, one
// node.attest per node that deleted (also when a deletion fails, by those that deleted, before
// the abort), and export.result. A crash at any point leaves the node's encrypted share or a
// complete, recorded shard — never neither.

export interface ShardOut {
  custodian: string;
  path: string;
  sha256: string;
}

/** A party whose node kept its share after an export with deletion, and why. */
export interface KeptShare {
  party: string;
  node: string;
  custodian: string;
  reason: string;
}

export interface ExportResult {
  shards: ShardOut[];
  /** Whether every node deleted its copy. */
  nodesEmpty: boolean;
  /** With deletion: the parties whose node deleted its copy after its custodian's receipt. */
  deleted: string[];
  /** With deletion: the parties whose node still holds its share. */
  kept: KeptShare[];
  /**
   * Shard files found where a new shard goes that no entry records (a crash between writing a
   * shard and recording it leaves one), moved aside to these paths before the new one was written.
   */
  setAside: string[];
}

/** Asked before the ceremony opens, so a "no" leaves nothing behind; recorded once it has. */
export async function planExport(s: Session, label: string, parties: Pick<PartyAssignment, 'node' | 'custodian'>[], deleteAfter: boolean): Promise<void> {
  const to = parties.map((p) => `${p.node}→${p.custodian}`).join(', ');
  await s.confirm(
    deleteAfter
      ? `Export the shares of key ${label} (${to}) and then delete each node's copy once its custodian has opened the shard and signed a receipt?`
      : `Export the shares of key ${label} (${to})? The nodes keep their encrypted copies.`,
  );
}

/**
 * Before the ceremony opens: the custodians here to sign receipts for their shards, unlocked and
 * checked against the roster (a wrong passphrase refuses now, before anything is written). One
 * whose passphrase the operator does not have is not here.
 */
export async function receiptSigners(s: Session, custodians: string[], identities?: IdentityPaths): Promise<Map<string, Identity>> {
  const here = new Map<string, Identity>();
  for (const name of custodians) {
    const id = await s.unlockIfPresent(name, 'custodian', identities);
    if (id) here.set(name, id);
  }
  return here;
}

/** What an export does besides writing shards. */
export interface ExportPlan {
  deleteAfter: boolean;
  /** The custodians here to sign receipts (receiptSigners). */
  signers: Map<string, Identity>;
  /**
   * By party: shards an earlier export recorded whose node still holds its share, because the
   * custodian was not there for the receipt; only the receipt and the deletion remain.
   */
  exported?: Map<string, ShardOut>;
}

/**
 * The export steps inside an open ceremony (keygen --export, or export), for the parties of
 * `r` whose node is in `nodes`.
 */
export async function exportShares(c: Ceremony, s: Session, generator: Identity, r: KeyRecord, nodes: NodeClient[], plan: ExportPlan): Promise<ExportResult> {
  const h = { keyId: r.keyId, epoch: r.epoch };
  const byNode = new Map(nodes.map((n) => [n.id, n]));
  const parties = r.parties.filter((p) => byNode.has(p.node));
  await s.step(c, { step: 'export.intent', actor: generator, params: { ...h, custodians: r.parties.map((p) => p.custodian), deleteAfterExport: plan.deleteAfter } });
  const shards: ShardOut[] = [];
  const setAside: string[] = [];
  for (const p of parties) shards.push(plan.exported?.get(p.party) ?? (await exportOne(c, byNode.get(p.node)!, r, p, setAside)));
  const deleted: string[] = [];
  const kept: KeptShare[] = [];
  if (plan.deleteAfter) {
    const receipted = await takeReceipts(c, r, parties, shards, plan.signers, kept);
    const emptied: NodeClient[] = [];
    try {
      for (const p of receipted) {
        const node = byNode.get(p.node)!;
        await fromNode(c, node, 'node.delete', (draft) => node.deleteShare(h, draft), saying(h));
        emptied.push(node);
        deleted.push(p.party);
      }
    } catch (e) {
      // Each node that deleted still owes its claim that it holds nothing (docs/ARCHITECTURE.md §8).
      await attestEmpty(c, emptied, r.keyId, 'deleting it').catch(() => undefined);
      throw e;
    }
    await attestEmpty(c, emptied, r.keyId, 'deleting it');
  }
  const nodesEmpty = plan.deleteAfter && kept.length === 0;
  await c.record({
    step: 'export.result', actor: generator, params: h,
    result: { shards: shards.map((x) => ({ custodian: x.custodian, sha256: x.sha256 })), nodesEmpty, ...(plan.deleteAfter ? { deleted, kept } : {}) },
  });
  return { shards, nodesEmpty, deleted, kept, setAside };
}

/**
 * Each custodian here opens their party's shard (`shards[i]` for `parties[i]`) with their own
 * identity; the share inside must be their party's, with the record's verifying share, in the
 * very file the node exported, and they sign export.receipt for its digest. Returns the parties
 * receipted; those whose custodian is not here go to `kept`.
 */
async function takeReceipts(c: Ceremony, r: KeyRecord, parties: PartyAssignment[], shards: ShardOut[], signers: Map<string, Identity>, kept: KeptShare[]): Promise<PartyAssignment[]> {
  const receipted: PartyAssignment[] = [];
  for (const [i, p] of parties.entries()) {
    const custodian = signers.get(p.custodian);
    if (!custodian) {
      kept.push({ party: p.party, node: p.node, custodian: p.custodian, reason: `${p.custodian} was not here to open the shard and sign a receipt for it` });
      continue;
    }
    const shard = shards[i]!;
    const opened = await openShardAs(r, custodian, shard.path);
    if (opened.sha256 !== shard.sha256) {
      throw new KeyriteError('DAMAGED_FILE', `${shard.path} is not the shard ${p.node} exported to ${p.custodian} (sha256 ${shard.sha256}); ${p.node} keeps its share`, { node: p.node });
    }
    await c.record({
      step: 'export.receipt', actor: custodian,
      params: { keyId: r.keyId, epoch: r.epoch, party: p.party, node: p.node, custodian: p.custodian, shard: opened.sha256 },
      result: { verifyingShare: opened.shard.share.verifyingShares[opened.shard.party] },
    });
    receipted.push(p);
  }
  return receipted;
}

/**
 * One party: the node's shard written (temp, fsync, link, fsync of the directory) and read back
 * before its entry is recorded. A file already where it goes, which no export on record accounts
 * for, is moved aside first (to `setAside`): the node still holds the share, so it is not needed.
 */
async function exportOne(c: Ceremony, node: NodeClient, r: KeyRecord, p: PartyAssignment, setAside: string[]): Promise<ShardOut> {
  const ws = c.ws;
  const out = await node.exportShard({ keyId: r.keyId, epoch: r.epoch }, p.recipient, c.draft());
  if (out.custodian !== p.custodian) throw new KeyriteError('WRONG_CUSTODIAN', `node ${p.node} exported to ${out.custodian}, but the key record assigns ${p.custodian}`, { node: p.node });
  const bytes = Buffer.from(out.shard, 'base64');
  const path = shardPath(ws, p.custodian, r.keyId, r.epoch);
  ws.mkdirs(ws.holdingsDir(p.custodian));
  if (existsSync(path) && !c.state.exports.has(shardRoleName(p.custodian, r.keyId, r.epoch))) setAside.push(moveUnrecorded(path));
  createFile(path, bytes);
  const sha256 = sha256Hex(bytes);
  if (sha256Hex(readBytes(path, `the shard of ${p.custodian}`)) !== sha256) {
    throw new KeyriteError('SHARD_WRITE_FAILED', `the shard written to ${path} does not read back as written; ${p.node} keeps its share`, { node: p.node });
  }
  faultPoint('shard-file'); // a crash test's boundary: the shard is durable, its entry not yet recorded (base/fault.ts)
  const said = saying({ keyId: r.keyId, epoch: r.epoch, party: p.party, node: p.node, custodian: p.custodian, recipient: p.recipient });
  const subject = shardRoleName(p.custodian, r.keyId, r.epoch);
  await c.recordSigned(out.entry, {
    node: p.node,
    step: 'export.shard',
    check: (s) => said(s) ?? (s.subject.some((x) => x.name === subject && x.digest.sha256 === sha256) ? null : 'it names another shard than the one it handed over'),
  });
  return { custodian: p.custodian, path, sha256 };
}

export interface ExportInput {
  ws: Workspace;
  keyId: string;
  deleteAfter: boolean;
  witness?: string;
  identities?: IdentityPaths;
  /** custodian → their shard, when an earlier export wrote it and it is no longer at the standard path. */
  shards?: Map<string, string>;
  operator: Operator;
  connect?: NodeConnector;
}

/** What an export still has to do for each party, found before anything is asked or written. */
interface Remaining {
  /** The nodes that still hold their party's share. */
  nodes: NodeClient[];
  /** Of those, the parties an earlier export wrote a shard for (ExportPlan.exported). */
  exported: Map<string, ShardOut>;
}

/**
 * Each party: done when its node deleted its copy after a receipt; to export when nothing is
 * recorded (its shard file must not exist yet); awaiting only a receipt and the deletion when an
 * earlier export recorded its shard.
 */
async function remaining(s: Session, i: ExportInput, r: KeyRecord, all: NodeClient[]): Promise<Remaining> {
  const out: Remaining = { nodes: [], exported: new Map() };
  for (const [k, p] of r.parties.entries()) {
    const node = all[k]!;
    if (!(await node.holdings()).some((x) => x.keyId === r.keyId && x.epoch === r.epoch)) {
      if (s.state.receipt(r.keyId, r.epoch, p.party)) continue;
      throw new KeyriteError('NOT_HELD', `node ${node.id} holds no share of key ${r.keyId} at epoch ${r.epoch}, and no receipt for party ${p.party}'s shard is recorded`, { node: node.id });
    }
    out.nodes.push(node);
    const path = i.shards?.get(p.custodian) ?? shardPath(i.ws, p.custodian, r.keyId, r.epoch);
    const recorded = s.state.exports.get(shardRoleName(p.custodian, r.keyId, r.epoch));
    if (!recorded) continue; // exported now; a file no export records is moved aside (exportOne)
    if (!i.deleteAfter) throw new KeyriteError('NOT_PERMITTED', `party ${p.party} of key ${r.keyId} was exported to ${p.custodian} already (ceremony ${recorded.ceremony}); all that remains is ${p.node} deleting its copy after ${p.custodian}'s receipt`, { node: node.id });
    out.exported.set(p.party, { custodian: p.custodian, path, sha256: recorded.sha256 });
  }
  if (out.nodes.length === 0) throw new KeyriteError('NOT_HELD', `no node (${all.map((n) => n.id).join(', ')}) holds a share of key ${r.keyId} at epoch ${r.epoch}: every party was exported, receipted and deleted already`, { node: all[0]!.id });
  return out;
}

/**
 * `keyrite export`: its own ceremony, sealed with a witness when the nodes delete. A party whose
 * node deleted its copy already is done; one whose shard an earlier export recorded, but whose
 * node kept its copy for want of a receipt, gets only the receipt and the deletion.
 */
export async function exportKey(i: ExportInput): Promise<ExportResult & { keyId: string; epoch: number; ceremony: string; sealed: Sealed }> {
  return withSession({ ws: i.ws, operator: i.operator, label: `export ${i.keyId}` }, async (s) => {
    const r = s.key(i.keyId);
    const generator = await s.unlockSole('generator', { identities: i.identities });
    const connect = i.connect ?? inProcess(i.ws);
    const { nodes, exported } = await remaining(s, i, r, await Promise.all(r.parties.map((p) => connect(p.node, generator, s.state))));
    const open = r.parties.filter((p) => nodes.some((n) => n.id === p.node));
    await planExport(s, r.label, open, i.deleteAfter);
    const witness = i.deleteAfter ? [await s.unlockSole('witness', { name: i.witness, identities: i.identities })] : [];
    const signers = i.deleteAfter ? await receiptSigners(s, open.map((p) => p.custodian), i.identities) : new Map<string, Identity>();
    for (const x of exported.values()) if (signers.has(x.custodian)) readBytes(x.path, `the shard of ${x.custodian}`); // there before the ceremony opens
    const plan = { deleteAfter: i.deleteAfter, signers, exported };
    const out = await s.run({ script: 'export', actor: generator, params: { keyId: r.keyId, epoch: r.epoch } }, (c) => exportShares(c, s, generator, r, nodes, plan), witness);
    return { ...out, keyId: r.keyId, epoch: r.epoch };
  });
}
