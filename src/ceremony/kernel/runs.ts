import { canonical } from '../../base/canonical.js';
import { KeyriteError } from '../../base/errors.js';
import type { Ceremony } from '../../evidence/writer.js';
import { sessionIdOf, type PublicPackage, type SessionParams } from '../../engine/index.js';
import type { HandedIn, NodeClient, ProtocolKind, StartInputs } from '../../node/client.js';
import { drive } from '../../node/drive.js';
import { sealForNode, signRequest, type RenewalOp } from '../../node/request.js';
import { benchFor } from '../../audit/blame-rules.js';
import { member } from '../../state/roster.js';
import { fromNode, saying } from './nodes.js';
import type { Operator } from './operator.js';
import type { Session } from './session.js';
import type { OpenedShard } from './shards.js';

// The protocol runs that make shares — key generation, refresh, reshare, repair — the one way
// every ceremony drives them: the shares handed in from the custodians' shards, each under the
// custodian's own signed request for this run; the run among the nodes, which must all end with
// the same public package; then each node that made a share keeps it (encrypted to itself) and
// signs the entry that says so. Nothing here decides what the run is for: the ceremony does.

/**
 * Each custodian's share for their node (sealed to it) with their signed request for `op` in
 * this session, and their `<op>.request` entry on record first, so the transcript shows who
 * handed a share into which run.
 */
export async function handIn(c: Ceremony, s: Session, opened: OpenedShard[], op: RenewalOp, session: SessionParams): Promise<Map<string, HandedIn>> {
  const inputs = new Map<string, HandedIn>();
  const request = { v: 1 as const, op, keyId: session.keyId, epoch: session.epoch, sessionId: sessionIdOf(session) };
  for (const o of opened) {
    await c.record({ step: `${op}.request`, actor: o.custodian, params: { keyId: request.keyId, epoch: request.epoch, party: o.shard.party, sessionId: request.sessionId } });
    const share = await sealForNode(member(s.roster, o.shard.node, 'node').recipient, o.shard.share);
    inputs.set(o.shard.node, { request: signRequest(o.custodian.name, o.custodian.signing, request), share });
  }
  return inputs;
}

/** The runs that make shares. */
type ShareKind = Extract<ProtocolKind, 'dkg' | 'refresh' | 'reshare' | 'repair'>;

/**
 * The run of `kind` among `nodes` (`inputs` by node id); every node that made a share must end
 * with the same public package, or none keeps anything. `old`: the key before a reshare, which
 * an accusation in it is judged against.
 */
export async function runShares(
  operator: Operator, s: Session, nodes: NodeClient[], session: SessionParams, kind: ShareKind,
  inputs: (node: NodeClient) => StartInputs[ShareKind], label: string, old?: PublicPackage,
): Promise<PublicPackage> {
  // Each kind's inputs are what its own caller built; the union cannot say which goes with which.
  const outputs = await operator.progress(label, () => drive(nodes, benchFor(s.roster, session, kind, old), (node) => node.start(kind, session, inputs(node) as never)));
  const packages = (Object.values(outputs) as (PublicPackage | null)[]).filter((p): p is PublicPackage => p !== null);
  if (packages.length === 0 || new Set(packages.map((p) => canonical(p))).size !== 1) {
    await Promise.all(nodes.map((node) => node.abort(sessionIdOf(session))));
    throw new KeyriteError('DKG_DISAGREEMENT', `the nodes finished the ${kind} with different public keys or shares; nothing was kept`);
  }
  return packages[0]!;
}

/** Each node in `holders` keeps the share it made and signs `step`, which must name this key, epoch and the node's verifying share. */
export async function keepShares(c: Ceremony, holders: NodeClient[], session: SessionParams, pkg: PublicPackage, step: string): Promise<void> {
  const sessionId = sessionIdOf(session);
  for (const node of holders) {
    const expected = saying({ keyId: pkg.keyId, epoch: pkg.epoch, party: node.id, sessionId }, { groupPublicKey: pkg.groupPublicKey, verifyingShare: pkg.verifyingShares[node.id] });
    await fromNode(c, node, step, (draft) => node.keep(sessionId, draft), expected);
  }
}
