import { KeyriteError } from '../../base/errors.js';
import type { Workspace } from '../../fs/workspace.js';
import type { Identity } from '../../custody/identity.js';
import type { Ceremony } from '../../evidence/writer.js';
import type { Statement } from '../../evidence/statement.js';
import type { EntryDraft } from '../../evidence/entry.js';
import type { NodeClient, Recorded } from '../../node/client.js';
import { HttpNode } from '../../node/http-client.js';
import { SigningNode } from '../../node/node.js';
import type { Holding } from '../../node/store.js';
import type { CustodyState } from '../../state/fold.js';
import type { KeyRecord } from '../../state/key-record.js';
import type { ProvedBlame, UnverifiedClaim } from '../../engine/index.js';

// Reaching the signing nodes, and recording what they sign. A node's custody acts (keeping a
// DKG share, exporting, deleting, attesting) come back as transcript entries the node signed
// itself from a draft of where they go; the ceremony appends them after the writer has checked
// they are the node's, for that place, saying that step. No ceremony holds a node's key.

/**
 * How a ceremony reaches a node, as `caller` (who signs requests over a transport); `state` is
 * the ceremony's fold, which a node in this process reads instead of folding the same files again.
 */
export type NodeConnector = (id: string, caller: Identity, state: CustodyState) => Promise<NodeClient>;

/** The default: each node in this process, from its home in the workspace (nodes/<id>/). */
export const inProcess = (ws: Workspace): NodeConnector => (id, _caller, state) => SigningNode.open(ws, id, { state: () => state });

/** Nodes served by `keyrite node serve`, by id → base URL. */
export const overHttp = (urls: Map<string, string>): NodeConnector => async (id, caller) => {
  const url = urls.get(id);
  if (!url) throw new KeyriteError('MISSING_INPUT', `no address is given for node ${id}`, { node: id });
  return new HttpNode(id, url, caller);
};

/**
 * Asks `node` to act and appends the entry it signed about it, once `check` (null: as expected;
 * else why not) accepts what the entry says; returns the rest of the node's answer.
 */
export async function fromNode<T extends Recorded>(
  c: Ceremony, node: NodeClient, step: string, act: (draft: EntryDraft) => Promise<T>, check?: (s: Statement) => string | null,
): Promise<Omit<T, 'entry'> & { statement: Statement }> {
  const { entry, ...rest } = await act(c.draft());
  const { statement } = await c.recordSigned(entry, { node: node.id, step, check });
  return { ...rest, statement };
}

/** What a node's entry must say, field by field: null when it does, else the first difference. */
export function saying(params: Record<string, unknown>, result: Record<string, unknown> = {}): (s: Statement) => string | null {
  return (s) => {
    for (const [where, want, got] of [['params', params, s.predicate.params], ['result', result, s.predicate.result]] as const) {
      for (const [k, v] of Object.entries(want)) if (JSON.stringify(got[k]) !== JSON.stringify(v)) return `its ${where}.${k} is ${JSON.stringify(got[k])}, not ${JSON.stringify(v)}`;
    }
    return null;
  };
}

/**
 * Every node's signed claim of what it holds (node.attest), recorded; refuses when one still
 * holds key `keyId` after `why` (docs/ARCHITECTURE.md §8: signing and deletion end with every node empty).
 */
export async function attestEmpty(c: Ceremony, nodes: NodeClient[], keyId: string, why: string): Promise<void> {
  for (const node of nodes) {
    const { holds } = await fromNode(c, node, 'node.attest', (draft) => node.attest(draft));
    if (holds.some(ofKeyInForce(c.state, keyId))) throw new KeyriteError('NODE_NOT_EMPTY', `node ${node.id} still holds key ${keyId} after ${why}`, { node: node.id });
  }
}

/**
 * A holding of `keyId` up to the epoch in force. A share of a later epoch is one an epoch change
 * made and a crash cut off before its result: no share of the key as it stands, it is dropped by
 * its node once that ceremony is closed (node.ts, dropUnrecorded), and it never blocks the old epoch.
 */
const ofKeyInForce = (state: CustodyState, keyId: string) => (h: Holding): boolean => h.keyId === keyId && h.epoch <= (state.keys.get(keyId)?.epoch ?? h.epoch);

/**
 * The nodes `ids` of key `r`, each of which must hold nothing of it: a run just in time takes
 * its shares from the custodians' shards, never from a copy a node kept.
 */
export async function connectEmpty(connect: NodeConnector, state: CustodyState, r: KeyRecord, ids: string[], caller: Identity): Promise<NodeClient[]> {
  const nodes = await Promise.all(ids.map((id) => connect(id, caller, state)));
  for (const n of nodes) {
    if ((await n.holdings()).some(ofKeyInForce(state, r.keyId))) {
      throw new KeyriteError('NODE_NOT_EMPTY', `node ${n.id} still holds a share of key ${r.keyId}; it must be exported to its custodian and deleted first`, { node: n.id });
    }
  }
  return nodes;
}

/** The proved blame or unverified claim a failed run carries (node/claims.ts), for the ceremony.abort record. */
export function verdictOf(e: KeyriteError): { blame?: ProvedBlame; claim?: UnverifiedClaim } {
  const { blame, claim } = e.details as { blame?: ProvedBlame; claim?: UnverifiedClaim };
  return { ...(blame ? { blame } : {}), ...(claim ? { claim } : {}) };
}
