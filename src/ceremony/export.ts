import { existsSync } from 'node:fs';
import { sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { createFile, FileExistsError } from '../fs/atomic.js';
import { readBytes, type Workspace } from '../fs/workspace.js';
import type { Identity } from '../custody/identity.js';
import { shardPath, shardRoleName } from '../custody/shard.js';
import type { Ceremony, Sealed } from '../evidence/writer.js';
import type { NodeClient } from '../node/client.js';
import type { KeyRecord, PartyAssignment } from '../state/key-record.js';
import { attestEmpty, fromNode, inProcess, saying, type NodeConnector } from './kernel/nodes.js';
import type { Operator } from './kernel/operator.js';
import { withSession, type IdentityPaths, type Session } from './kernel/session.js';

// Export (docs/ARCHITECTURE.md §1 step 3, §8): each node encrypts its share to its custodian and
// signs its export.shard entry; the shard is written durably and read back, and only then is the
// node's entry recorded; only when every shard is, and when asked, does each node delete its copy
// and attest that it holds nothing for the key. Records, in order (inside keygen's ceremony, or
// export's own: ceremony.start, its confirmations, …, ceremony.seal): export.intent, one
// export.shard per party, then with deletion one node.delete per node followed by one node.attest
// per node (also when a deletion fails, by those that deleted, before the abort), and
// export.result. A crash at any point leaves the node's encrypted share or a complete, recorded
// shard — never neither.

export interface ShardOut {
  custodian: string;
  path: string;
  sha256: string;
}

export interface ExportResult {
  shards: ShardOut[];
  nodesEmpty: boolean;
}

/** Asked before the ceremony opens, so a "no" leaves nothing behind; recorded once it has. */
export async function planExport(s: Session, label: string, parties: PartyAssignment[], deleteAfter: boolean): Promise<void> {
  const to = parties.map((p) => `${p.node}→${p.custodian}`).join(', ');
  await s.confirm(
    deleteAfter
      ? `Export the shares of key ${label} (${to}) and then delete every node's copy?`
      : `Export the shares of key ${label} (${to})? The nodes keep their encrypted copies.`,
  );
}

/** The export steps inside an open ceremony (keygen --export, or export). */
export async function exportShares(c: Ceremony, s: Session, generator: Identity, r: KeyRecord, nodes: NodeClient[], deleteAfter: boolean): Promise<ExportResult> {
  const h = { keyId: r.keyId, epoch: r.epoch };
  const byNode = new Map(nodes.map((n) => [n.id, n]));
  await s.step(c, { step: 'export.intent', actor: generator, params: { ...h, custodians: r.parties.map((p) => p.custodian), deleteAfterExport: deleteAfter } });
  const shards: ShardOut[] = [];
  for (const p of r.parties) shards.push(await exportOne(c, byNode.get(p.node)!, r, p));
  if (deleteAfter) {
    const deleted: NodeClient[] = [];
    try {
      for (const p of r.parties) {
        const node = byNode.get(p.node)!;
        await fromNode(c, node, 'node.delete', (draft) => node.deleteShare(h, draft), saying(h));
        deleted.push(node);
      }
    } catch (e) {
      // Each node that deleted still owes its claim that it holds nothing (docs/ARCHITECTURE.md §8).
      await attestEmpty(c, deleted, r.keyId, 'deleting it').catch(() => undefined);
      throw e;
    }
    await attestEmpty(c, deleted, r.keyId, 'deleting it');
  }
  await c.record({ step: 'export.result', actor: generator, params: h, result: { shards: shards.map((x) => ({ custodian: x.custodian, sha256: x.sha256 })), nodesEmpty: deleteAfter } });
  return { shards, nodesEmpty: deleteAfter };
}

/** One party: the node's shard written (temp, fsync, link, fsync of the directory) and read back before its entry is recorded. */
async function exportOne(c: Ceremony, node: NodeClient, r: KeyRecord, p: PartyAssignment): Promise<ShardOut> {
  const ws = c.ws;
  const out = await node.exportShard({ keyId: r.keyId, epoch: r.epoch }, c.draft());
  if (out.custodian !== p.custodian) throw new KeyriteError('WRONG_CUSTODIAN', `node ${p.node} exported to ${out.custodian}, but the key record assigns ${p.custodian}`, { node: p.node });
  const bytes = Buffer.from(out.shard, 'base64');
  const path = shardPath(ws, p.custodian, r.keyId, r.epoch);
  ws.mkdirs(ws.holdingsDir(p.custodian));
  createFile(path, bytes);
  const sha256 = sha256Hex(bytes);
  if (sha256Hex(readBytes(path, `the shard of ${p.custodian}`)) !== sha256) {
    throw new KeyriteError('SHARD_WRITE_FAILED', `the shard written to ${path} does not read back as written; ${p.node} keeps its share`, { node: p.node });
  }
  const said = saying({ keyId: r.keyId, epoch: r.epoch, party: p.party, node: p.node, custodian: p.custodian });
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
  operator: Operator;
  connect?: NodeConnector;
}

/** `keyrite export`: its own ceremony, sealed with a witness when the nodes delete. */
export async function exportKey(i: ExportInput): Promise<ExportResult & { keyId: string; epoch: number; ceremony: string; sealed: Sealed }> {
  return withSession({ ws: i.ws, operator: i.operator, label: `export ${i.keyId}` }, async (s) => {
    const r = s.key(i.keyId);
    const generator = await s.unlockSole('generator', { identities: i.identities });
    const connect = i.connect ?? inProcess(i.ws);
    const nodes = await Promise.all(r.parties.map((p) => connect(p.node, generator, s.state)));
    for (const n of nodes) {
      if (!(await n.holdings()).some((x) => x.keyId === r.keyId && x.epoch === r.epoch)) {
        throw new KeyriteError('NOT_HELD', `node ${n.id} holds no share of key ${r.keyId} at epoch ${r.epoch}: it was exported and deleted already`, { node: n.id });
      }
    }
    for (const p of r.parties) {
      const path = shardPath(i.ws, p.custodian, r.keyId, r.epoch);
      if (existsSync(path)) throw new FileExistsError(path);
    }
    await planExport(s, r.label, r.parties, i.deleteAfter);
    const witness = i.deleteAfter ? [await s.unlockSole('witness', { name: i.witness, identities: i.identities })] : [];
    const out = await s.run({ script: 'export', actor: generator, params: { keyId: r.keyId, epoch: r.epoch } }, (c) => exportShares(c, s, generator, r, nodes, i.deleteAfter), witness);
    return { shards: out.shards, nodesEmpty: out.nodesEmpty, keyId: r.keyId, epoch: r.epoch, ceremony: out.ceremony, sealed: out.sealed };
  });
}
