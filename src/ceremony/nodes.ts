import { KeyriteError } from '../base/errors.js';
import type { Workspace } from '../fs/workspace.js';
import type { Identity } from '../custody/identity.js';
import { verifyObject } from '../base/ed25519.js';
import type { Attestation, NodeClient } from '../node/client.js';
import { HttpNode } from '../node/http-client.js';
import { loadNodeIdentity } from '../node/identity.js';
import { SigningNode } from '../node/node.js';
import { loadRoster, member, soleMember, type Roster } from '../state/roster.js';
import type { Ceremony } from '../evidence/writer.js';
import type { Operator } from './operator.js';
import { unlockPerson } from './unlock.js';

// What the lifecycle ceremonies share: reaching the nodes, the people who seal, and the node's
// own entries in the transcript.

/** How a ceremony reaches a node, as `caller` (who signs requests over a transport). */
export type NodeConnector = (id: string, caller: Identity) => Promise<NodeClient>;

/** The default: each node in this process, reading its own directory. */
export const inProcess = (ws: Workspace): NodeConnector => (id) => SigningNode.open(ws, id);

/** Nodes served by `keyrite node serve`, by id → base URL. */
export const overHttp = (urls: Map<string, string>): NodeConnector => async (id, caller) => {
  const url = urls.get(id);
  if (!url) throw new KeyriteError('MISSING_INPUT', `no address is given for node ${id}`);
  return new HttpNode(id, url, caller);
};

/**
 * The identity that signs a node's transcript entries. The transcript is written on the
 * coordinating machine, so the node's key is read from its directory there: on one laptop
 * the node and the transcript share a disk anyway (DESIGN §2, honest limits).
 */
export function nodeSigner(ws: Workspace, id: string): Promise<Identity> {
  return loadNodeIdentity(ws, id);
}

/** Per-person identity files given as --identity NAME=PATH; anyone not named uses their standard path. */
export type IdentityPaths = Map<string, string>;

/**
 * Unlocks the roster's key generator, or its witness (the one named, else the only one
 * enrolled), from the identity file given for them or their standard path.
 */
export async function unlockSole(ws: Workspace, roster: Roster, operator: Operator, role: 'generator' | 'witness', o: { name?: string; identities?: IdentityPaths } = {}): Promise<Identity> {
  const name = soleMember(roster, role, o.name).name;
  return unlockPerson(ws, roster, operator, name, role, o.identities?.get(name));
}

/**
 * Refuses an attestation that is not `node`'s: one naming another node, or whose signature does
 * not verify under the roster's key for the node. Only a claim the node itself signed is recorded.
 */
function checkAttestation(ws: Workspace, node: string, a: Attestation | null): void {
  if (a?.node !== node) throw new KeyriteError('WRONG_NODE', `node ${node} answered with an attestation for ${String(a?.node)}; its claim is not recorded`, { node });
  const { sig, ...body } = a;
  if (typeof sig !== 'string' || !Array.isArray(a.holds) || !verifyObject(member(loadRoster(ws), node, 'node').signingKey, body, sig)) {
    throw new KeyriteError('BAD_SIGNATURE', `the attestation from node ${node} is not signed by ${node}'s key in the roster; its claim is not recorded. Check that the node serving as ${node} is the enrolled one`, { node });
  }
}

/** Asks the node what it holds, checks its signature and records its signed claim (node.attest); returns what it holds. */
export async function recordAttestation(c: Ceremony, ws: Workspace, node: NodeClient): Promise<{ keyId: string; epoch: number }[]> {
  const a = await node.attest();
  checkAttestation(ws, node.id, a);
  await c.record({ step: 'node.attest', actor: await nodeSigner(ws, node.id), result: { holds: a.holds, time: a.time, sig: a.sig } });
  return a.holds;
}
