import { join } from 'node:path';
import { canonical } from '../base/canonical.js';
import { KeyriteError, shown } from '../base/errors.js';
import type { Workspace } from '../fs/workspace.js';
import { encryptTo } from '../base/age.js';
import { publicPackageOf, type Share } from '../engine/index.js';
import { assignmentOf, type KeyRecord } from '../state/key-record.js';
import { openSealed, readShare } from './sealed.js';

// A shard (docs/ARCHITECTURE.md §6): an age file to the custodian holding engine, key id, epoch, party, the
// share and the group's public data. Only the node that held the share writes one, and only the
// custodian's identity opens it.

export interface ShardPayload {
  v: 1;
  kind: 'keyrite-shard';
  engine: string;
  keyId: string;
  epoch: number;
  party: string;
  node: string;
  custodian: string;
  share: Share; // carries the group's public data (verifying shares, threshold, parties)
}

export function shardPath(ws: Workspace, custodian: string, keyId: string, epoch: number): string {
  return join(ws.holdingsDir(custodian), `${custodian}.${keyId}.e${epoch}.shard.age`);
}

// How the transcript names a shard: by its role (docs/ARCHITECTURE.md §6, "Artifacts").
export { shardRoleName } from '../state/artifacts.js';

export async function sealShard(p: ShardPayload, recipient: string): Promise<Uint8Array> {
  return encryptTo([recipient], Buffer.from(canonical(p), 'utf8'));
}

/** Decrypts a shard and checks its share (form, secret·G = its verifying share); `what` names the file. */
export async function openShard(bytes: Uint8Array, ageIdentity: string, what: string): Promise<ShardPayload> {
  const p = (await openSealed(ageIdentity, bytes, what)) as Partial<ShardPayload>;
  if (p.v !== 1 || p.kind !== 'keyrite-shard' || typeof p.share !== 'object' || p.share === null) throw new KeyriteError('DAMAGED_FILE', `${what} does not hold a keyrite shard`);
  const share = readShare(p.share as unknown as Record<string, unknown>, what, shown(p.engine));
  if (share.keyId !== p.keyId || share.epoch !== p.epoch || share.party !== p.party) throw new KeyriteError('DAMAGED_FILE', `${what}: its label does not match the share inside`);
  return { ...(p as ShardPayload), share };
}

/**
 * Refuses a shard that is not `custodian`'s piece of the key as recorded now: another key,
 * another epoch, another custodian's party, or group data that differs from the record.
 */
export function checkShardFor(r: KeyRecord, p: ShardPayload, custodian: string, what: string): void {
  // The payload opened, but its fields are the sender's: printed with shown(), which cannot throw.
  if (p.keyId !== r.keyId || p.engine !== r.engine) throw new KeyriteError('WRONG_KEY', `${what} is a shard of ${shown(p.engine)} key ${shown(p.keyId)}, not of key ${r.keyId}`);
  if (p.epoch !== r.epoch) throw new KeyriteError('WRONG_EPOCH', `${what} is from epoch ${shown(p.epoch)}; key ${r.keyId} is at epoch ${r.epoch}`);
  const a = assignmentOf(r, { custodian });
  if (p.custodian !== custodian || p.party !== a.party || p.node !== a.node) {
    throw new KeyriteError('WRONG_CUSTODIAN', `${what} is ${shown(p.custodian)}'s shard (party ${shown(p.party)}); ${custodian} holds party ${a.party} of key ${r.keyId}`);
  }
  if (canonical(publicPackageOf(p.share)) !== canonical(r.publicPackage)) {
    throw new KeyriteError('WRONG_KEY', `${what}: its group data differs from the record of key ${r.keyId}`);
  }
}
