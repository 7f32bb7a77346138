import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { createFile, FileExistsError } from '../fs/atomic.js';
import { withLock } from '../fs/lock.js';
import { readBytes, type Workspace } from '../fs/workspace.js';
import type { Identity } from '../custody/identity.js';
import type { NodeClient } from '../node/client.js';
import { loadKeyRecord, type KeyRecord, type PartyAssignment } from '../state/key-record.js';
import { shardPath } from '../custody/shard.js';
import { loadRoster, requireSealed } from '../state/roster.js';
import type { Ceremony, Sealed } from '../evidence/writer.js';
import { inCeremony, step } from './evidence.js';
import { inProcess, nodeSigner, recordAttestation, unlockSole, type IdentityPaths, type NodeConnector } from './nodes.js';
import type { Operator } from './operator.js';

// Export (DESIGN §1 step 3, §8): each node encrypts its share to its custodian, the shard is
// written durably, read back and its digest recorded; only then, when asked, does the node delete
// its copy and attest that it holds nothing for the key. A crash at any point leaves the node's
// encrypted share or a complete, recorded shard — never neither.

export interface ShardOut {
  custodian: string;
  path: string;
  sha256: string;
}

export interface ExportResult {
  shards: ShardOut[];
  nodesEmpty: boolean;
}

/** Asked before any ceremony starts, so a "no" leaves nothing behind. */
export async function confirmExport(operator: Operator, label: string, parties: PartyAssignment[], deleteAfter: boolean): Promise<void> {
  const to = parties.map((p) => `${p.node}→${p.custodian}`).join(', ');
  await operator.confirm(
    deleteAfter
      ? `Export the shares of key ${label} (${to}) and then delete every node's copy?`
      : `Export the shares of key ${label} (${to})? The nodes keep their encrypted copies.`,
  );
}

/** The export steps inside an open ceremony (keygen --export, or export). */
export async function exportShares(c: Ceremony, operator: Operator, generator: Identity, r: KeyRecord, nodes: NodeClient[], deleteAfter: boolean): Promise<ExportResult> {
  const ws = c.ws;
  const h = { keyId: r.keyId, epoch: r.epoch };
  const byNode = new Map(nodes.map((n) => [n.id, n]));
  await step(c, operator, { step: 'export.intent', actor: generator, params: { ...h, custodians: r.parties.map((p) => p.custodian), deleteAfterExport: deleteAfter } });
  const shards: ShardOut[] = [];
  for (const p of r.parties) {
    const node = byNode.get(p.node)!;
    const out = await node.exportShard(h);
    if (out.custodian !== p.custodian) throw new KeyriteError('WRONG_CUSTODIAN', `node ${p.node} exported to ${out.custodian}, but the key record assigns ${p.custodian}`);
    const bytes = Buffer.from(out.shard, 'base64');
    const path = shardPath(ws, p.custodian, r.keyId, r.epoch);
    ws.mkdirs(ws.holdingsDir(p.custodian));
    createFile(path, bytes); // temp, fsync, link, fsync of the directory
    const sha256 = sha256Hex(bytes);
    if (sha256Hex(readBytes(path, `the shard of ${p.custodian}`)) !== sha256) {
      throw new KeyriteError('SHARD_WRITE_FAILED', `the shard written to ${path} does not read back as written; ${p.node} keeps its share`);
    }
    await c.record({
      step: 'export.shard',
      actor: await nodeSigner(ws, p.node),
      params: { ...h, party: p.party, node: p.node, custodian: p.custodian },
      subjects: [{ name: relative(ws.root, path), sha256 }],
    });
    shards.push({ custodian: p.custodian, path, sha256 });
  }
  if (deleteAfter) await emptyNodes(c, r, byNode);
  await c.record({ step: 'export.result', actor: generator, params: h, result: { shards: shards.map((s) => ({ custodian: s.custodian, sha256: s.sha256 })), nodesEmpty: deleteAfter } });
  return { shards, nodesEmpty: deleteAfter };
}

/** Every shard is durable and recorded: only now may a node let go of its copy, and then attest it holds nothing. */
async function emptyNodes(c: Ceremony, r: KeyRecord, byNode: Map<string, NodeClient>): Promise<void> {
  const h = { keyId: r.keyId, epoch: r.epoch };
  for (const p of r.parties) {
    await byNode.get(p.node)!.deleteShare(h);
    await c.record({ step: 'node.delete', actor: await nodeSigner(c.ws, p.node), params: h });
  }
  for (const p of r.parties) {
    const holds = await recordAttestation(c, c.ws, byNode.get(p.node)!);
    if (holds.some((x) => x.keyId === r.keyId)) throw new KeyriteError('NODE_NOT_EMPTY', `node ${p.node} still holds key ${r.keyId} after deleting it`);
  }
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
  return withLock(i.ws.requireExists().root, `export ${i.keyId}`, async () => {
    const roster = requireSealed(loadRoster(i.ws));
    const r = loadKeyRecord(i.ws, i.keyId);
    if (r.status !== 'active') throw new KeyriteError('KEY_NOT_ACTIVE', `key ${r.keyId} is ${r.status}`);
    const generator = await unlockSole(i.ws, roster, i.operator, 'generator', { identities: i.identities });
    const connect = i.connect ?? inProcess(i.ws);
    const nodes = await Promise.all(r.parties.map((p) => connect(p.node, generator)));
    for (const n of nodes) {
      if (!(await n.holdings()).some((x) => x.keyId === r.keyId && x.epoch === r.epoch)) {
        throw new KeyriteError('NOT_HELD', `node ${n.id} holds no share of key ${r.keyId} at epoch ${r.epoch}: it was exported and deleted already`);
      }
    }
    for (const p of r.parties) {
      const path = shardPath(i.ws, p.custodian, r.keyId, r.epoch);
      if (existsSync(path)) throw new FileExistsError(path);
    }
    await confirmExport(i.operator, r.label, r.parties, i.deleteAfter);
    const witness = i.deleteAfter ? [await unlockSole(i.ws, roster, i.operator, 'witness', { name: i.witness, identities: i.identities })] : [];
    const out = await inCeremony(i.ws, i.operator, { script: 'export', actor: generator, params: { keyId: r.keyId, epoch: r.epoch } }, (c) =>
      exportShares(c, i.operator, generator, r, nodes, i.deleteAfter), witness);
    return { shards: out.shards, nodesEmpty: out.nodesEmpty, keyId: r.keyId, epoch: r.epoch, ceremony: out.ceremony, sealed: out.sealed };
  });
}
