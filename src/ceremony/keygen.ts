import { sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import type { Workspace } from '../fs/workspace.js';
import type { Identity } from '../custody/identity.js';
import { addressesOf, ENGINE_IDS, sessionIdOf, type SessionParams } from '../engine/index.js';
import type { Sealed } from '../evidence/writer.js';
import { keyRecordBytes } from '../state/cache.js';
import type { KeyRecord, PartyAssignment } from '../state/key-record.js';
import { member } from '../state/roster.js';
import { exportShares, planExport, receiptSigners, type ExportResult } from './export.js';
import { inProcess, type NodeConnector } from './kernel/nodes.js';
import { keepShares, runShares } from './kernel/runs.js';
import type { Operator } from './kernel/operator.js';
import { withSession, type IdentityPaths, type Session } from './kernel/session.js';

// keygen (docs/ARCHITECTURE.md §1 step 1): a t-of-n DKG among the signing nodes over the engine's
// authenticated protocol, party i on node-i assigned to the i-th custodian named. Records, in
// order: ceremony.start, the checklist confirmations, one keygen.share per node (signed by the
// node: it holds its party's share, encrypted to itself), keygen.result (the whole key record,
// each party pinned to its custodian's recipient and fingerprint), then, with --export, the
// export steps (export.ts: with deletion, a node deletes only after its custodian's receipt), and
// ceremony.seal with the witness. Each node keeps its share only once every node finished with
// the same group key.

export interface KeygenInput {
  ws: Workspace;
  engine: string;
  custodians: string[];
  threshold?: number; // default: the roster policy's
  label: string;
  witness?: string;
  identities?: IdentityPaths;
  export: boolean;
  deleteAfterExport: boolean;
  operator: Operator;
  connect?: NodeConnector;
}

export interface KeygenResult {
  record: KeyRecord;
  export: ExportResult | null;
  ceremony: string;
  sealed: Sealed;
}

/**
 * The parties of a new key on the first n nodes, party i assigned to the i-th custodian and
 * pinned to their recipient and fingerprint in the roster in force, checked against the policy.
 */
function planParties(s: Session, i: KeygenInput): { parties: PartyAssignment[]; t: number } {
  const roster = s.roster;
  const n = i.custodians.length;
  const t = i.threshold ?? roster.policy.threshold;
  const custodians = i.custodians.map((c) => member(roster, c, 'custodian'));
  if (n > roster.nodes.length) throw new KeyriteError('BAD_POLICY', `${n} custodians but only ${roster.nodes.length} signing nodes`);
  if (n < 2 || t < 2 || t > n) throw new KeyriteError('BAD_POLICY', `a key needs a threshold from 2 to the number of custodians; got ${t}-of-${n}`);
  // Each party pins its custodian's recipient and fingerprint from the folded roster (never roster.json).
  const parties = roster.nodes.slice(0, n).map((node, k) => {
    const c = custodians[k]!;
    return { party: node.name, node: node.name, custodian: c.name, recipient: c.recipient, fingerprint: c.fingerprint };
  });
  return { parties, t };
}

export async function keygen(i: KeygenInput): Promise<KeygenResult> {
  if (!(ENGINE_IDS as readonly string[]).includes(i.engine)) throw new KeyriteError('USAGE', `unknown engine ${i.engine}; known: ${ENGINE_IDS.join(', ')}`);
  if (i.deleteAfterExport && !i.export) throw new KeyriteError('USAGE', 'deleting after export needs the export');
  return withSession({ ws: i.ws, operator: i.operator, label: `keygen ${i.label}` }, async (s) => {
    const { parties, t } = planParties(s, i);
    const nodeIds = parties.map((p) => p.node);
    if (i.export) await planExport(s, i.label, parties, i.deleteAfterExport);
    const generator = await s.unlockSole('generator', { identities: i.identities });
    const witness = await s.unlockSole('witness', { name: i.witness, identities: i.identities });
    const signers = i.deleteAfterExport ? await receiptSigners(s, i.custodians, i.identities) : new Map<string, Identity>();
    const connect = i.connect ?? inProcess(i.ws);
    const nodes = await Promise.all(nodeIds.map((id) => connect(id, generator, s.state)));
    const n = parties.length;
    const out = await s.run({ script: 'keygen', actor: generator, params: { engine: i.engine, threshold: t, parties: n, custodians: i.custodians, label: i.label } }, async (c) => {
      const session: SessionParams = { engine: i.engine, keyId: 'new', epoch: 0, participants: nodeIds, t, n, ceremonyId: c.id, rosterDigest: s.state.rosterDigest };
      const sessionId = sessionIdOf(session);
      const pkg = await runShares(i.operator, s, nodes, session, 'dkg', () => ({}), `Generating the ${i.engine} key among ${nodeIds.join(', ')}`);
      await keepShares(c, nodes, session, pkg, 'keygen.share');
      // bip340: the internal key x(P) beside Q, so the record (and keygen.result) shows there is no script path.
      const internal = pkg.internalKey === undefined ? {} : { internalKey: pkg.internalKey };
      const record: KeyRecord = {
        v: 1, keyId: pkg.keyId, label: i.label, engine: i.engine, epoch: pkg.epoch, publicKey: pkg.groupPublicKey, ...internal, threshold: t,
        parties, publicPackage: pkg, addresses: addressesOf(i.engine, pkg.groupPublicKey), status: 'active',
      };
      await c.record({
        step: 'keygen.result',
        actor: generator,
        params: { engine: i.engine, threshold: t, parties: n, custodians: i.custodians, sessionId },
        result: { keyId: record.keyId, publicKey: record.publicKey, epoch: record.epoch, addresses: record.addresses, record },
        subjects: [{ name: i.ws.relative(i.ws.keyFile(record.keyId)), sha256: sha256Hex(keyRecordBytes(record)) }],
      });
      const exported = i.export ? await exportShares(c, s, generator, record, nodes, { deleteAfter: i.deleteAfterExport, signers }) : null;
      return { record, export: exported };
    }, [witness]);
    return { record: out.record, export: out.export, ceremony: out.ceremony, sealed: out.sealed };
  });
}
