import { readFileSync } from 'node:fs';
import { loadState } from '../../src/audit/state.js';
import { unlockIdentity, type Identity } from '../../src/custody/identity.js';
import type { ShardPayload } from '../../src/custody/shard.js';
import type { SessionParams } from '../../src/engine/index.js';
import { Workspace } from '../../src/fs/workspace.js';
import type { EntryDraft } from '../../src/evidence/entry.js';
import { loadScript } from '../../src/evidence/script.js';
import type { NodeClient, StartInputs } from '../../src/node/client.js';
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

