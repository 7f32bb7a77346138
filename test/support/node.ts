import { readFileSync } from 'node:fs';
import { benchFor } from '../../src/audit/blame-rules.js';
import { loadState } from '../../src/audit/state.js';
import { sha256Hex } from '../../src/base/canonical.js';
import { unlockIdentity, type Identity } from '../../src/custody/identity.js';
import type { ShardPayload } from '../../src/custody/shard.js';
import { sessionIdOf, type SessionParams } from '../../src/engine/index.js';
import { Workspace } from '../../src/fs/workspace.js';
import type { EntryDraft } from '../../src/evidence/entry.js';
import { loadScript } from '../../src/evidence/script.js';
import type { NodeClient, StartInputs } from '../../src/node/client.js';
import { drive } from '../../src/node/drive.js';
import { sealForNode, signRequest } from '../../src/node/request.js';
import { member } from '../../src/state/roster.js';
import type { CustodyState } from '../../src/state/fold.js';
import { CUSTODIANS, keygen, lifecycleWorkspace, readShard, shardFile } from './lifecycle.js';
import type { TestWorkspace } from './workspace.js';

// Driving a node directly, as a test does: a signing run started from one object, and an entry
// draft for calls whose signed entry the test does not append anywhere.

export function signStart(node: NodeClient, x: { session: SessionParams } & StartInputs['sign']) {
  return node.start('sign', x.session, { request: x.request, share: x.share, message: x.message });
}

/** A draft after the last line of `state`, under the roster in force: what a node needs before it signs an entry. */
export function nodeDraft(state: CustodyState, ceremony = '9999-test'): EntryDraft {
  return { ceremony, seq: 0, prev: state.head, roster: state.rosterDigest, script: loadScript('sign').digest };
}

/** A key exported to alice, bob and carol, with their shards opened and identities unlocked: for driving nodes by hand. */
export interface SigningWorkspace {
  tw: TestWorkspace;
  ws: Workspace;
  keyId: string;
  state: CustodyState;
  shards: Record<string, ShardPayload>;
  people: Record<string, Identity>;
}

export async function signingWorkspace(engine: string): Promise<SigningWorkspace> {
  const tw = await lifecycleWorkspace();
  const ws = new Workspace(tw.root);
  const keyId = (await keygen(tw, engine)).keyId;
  const shards: Record<string, ShardPayload> = {};
  const people: Record<string, Identity> = {};
  for (const c of CUSTODIANS) {
    shards[c] = await readShard(tw, c, shardFile(tw, c, keyId));
    people[c] = await unlockIdentity(readFileSync(tw.identityFile(c)), tw.passphrases[c]!, c);
  }
  return { tw, ws, keyId, state: await loadState(ws), shards, people };
}


/**
 * One whole signing run, as the sign ceremony drives it (src/ceremony/sign.ts) but without its
 * ceremony or workspace lock: each shard's custodian signs the request, their share is sealed to
 * their node, and the nodes are driven round by round. Returns the signature (hex).
 */
export async function driveSign(state: CustodyState, nodes: Record<string, NodeClient>, shards: ShardPayload[], people: Record<string, Identity>, ceremonyId: string, message: Uint8Array): Promise<string> {
  const roster = state.requireRoster();
  const first = shards[0]!;
  const participants = shards.map((s) => s.node);
  const session: SessionParams = { engine: first.engine, keyId: first.keyId, epoch: first.epoch, participants, t: first.share.threshold, n: first.share.parties.length, ceremonyId, rosterDigest: state.rosterDigest };
  const request = { v: 1 as const, keyId: first.keyId, epoch: first.epoch, messageDigest: sha256Hex(message), signers: shards.map((s) => s.custodian), sessionId: sessionIdOf(session) };
  const inputs = new Map<string, StartInputs['sign']>();
  for (const s of shards) {
    const share = await sealForNode(member(roster, s.node, 'node').recipient, s.share);
    inputs.set(s.node, { request: signRequest(s.custodian, people[s.custodian]!.signing, request), share, message: Buffer.from(message).toString('hex') });
  }
  const outputs = await drive(participants.map((p) => nodes[p]!), benchFor(roster, session, 'sign'), (n) => n.start('sign', session, inputs.get(n.id)!));
  return outputs[first.node] as string;
}
