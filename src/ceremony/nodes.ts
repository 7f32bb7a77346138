import { KeyriteError } from '../errors.js';
import type { Workspace } from '../fs/workspace.js';
import type { Identity } from '../custody/identity.js';
import type { NodeClient } from '../node/client.js';
import { HttpNode } from '../node/http-client.js';
import { loadNodeIdentity } from '../node/identity.js';
import { SigningNode } from '../node/node.js';
import { soleMember, type Roster } from '../transcript/roster.js';
import type { Ceremony } from '../transcript/writer.js';
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
  if (!url) throw new KeyriteError('MISSING_INPUT', `--nodes gives no address for ${id}`, 2);
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

/** Unlocks the roster's key generator, or its witness (the one named, else the only one enrolled). */
export async function unlockSole(ws: Workspace, roster: Roster, operator: Operator, role: 'generator' | 'witness', name?: string): Promise<Identity> {
  return unlockPerson(ws, roster, operator, soleMember(roster, role, name).name, role);
}

/** Asks the node what it holds and records its signed claim (node.attest); returns what it holds. */
export async function recordAttestation(c: Ceremony, ws: Workspace, node: NodeClient): Promise<{ keyId: string; epoch: number }[]> {
  const a = await node.attest();
  await c.record({ step: 'node.attest', actor: await nodeSigner(ws, node.id), result: { holds: a.holds, time: a.time, sig: a.sig } });
  return a.holds;
}
