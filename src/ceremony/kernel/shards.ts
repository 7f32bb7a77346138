import { sha256Hex } from '../../base/canonical.js';
import { readBytes } from '../../fs/workspace.js';
import type { Identity } from '../../custody/identity.js';
import { checkShardFor, openShard, shardPath, type ShardPayload } from '../../custody/shard.js';
import type { KeyRecord } from '../../state/key-record.js';
import type { Session } from './session.js';

// Opening a custodian's shard, the one way every ceremony does it: read the file (the standard
// path in their holdings, or the one they carried in), unlock the custodian, decrypt, and check
// that it is their party of the key at the epoch the transcript says.

export interface OpenedShard {
  custodian: Identity;
  shard: ShardPayload;
  path: string;
  sha256: string;
}

export async function openCustodianShard(s: Session, r: KeyRecord, name: string, o: { path?: string; identity?: string } = {}): Promise<OpenedShard> {
  const path = o.path ?? shardPath(s.ws, name, r.keyId, r.epoch);
  const bytes = readBytes(path, whatOf(name, path)); // read before anyone types a passphrase
  const custodian = await s.unlock(name, 'custodian', o.identity ? new Map([[name, o.identity]]) : undefined);
  return openShardAs(r, custodian, path, bytes);
}

/**
 * The shard at `path` opened with `custodian`'s unlocked identity and checked as their party of
 * `r`: the share inside is well formed, its secret gives its verifying share, and its group
 * data (every verifying share) is the record's.
 */
export async function openShardAs(r: KeyRecord, custodian: Identity, path: string, bytes = readBytes(path, whatOf(custodian.name, path))): Promise<OpenedShard> {
  const what = whatOf(custodian.name, path);
  const shard = await openShard(bytes, custodian.ageIdentity, what);
  checkShardFor(r, shard, custodian.name, what);
  return { custodian, shard, path, sha256: sha256Hex(bytes) };
}

const whatOf = (name: string, path: string): string => `the shard of ${name} (${path})`;
