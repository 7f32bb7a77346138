import { sha256Hex } from '../../base/canonical.js';
import { readBytes } from '../../fs/workspace.js';
import type { Identity } from '../../custody/identity.js';
import { KeyriteError } from '../../base/errors.js';
import { checkShardFor, openShard, shardPath, shardRoleName, type ShardPayload } from '../../custody/shard.js';
import type { CustodyState } from '../../state/fold.js';
import type { KeyRecord } from '../../state/key-record.js';
import { requireRotated } from '../../state/rotation.js';
import type { IdentityPaths, Session } from './session.js';

// Opening a custodian's shard, the one way every ceremony does it: read the file (the standard
// path in their holdings, or the one they carried in), unlock the custodian, decrypt, and check
// that it is their party of the key at the epoch the transcript says. Not while the custodian's
// rotation is due, and never a shard a rotation replaced.

export interface OpenedShard {
  custodian: Identity;
  shard: ShardPayload;
  path: string;
  sha256: string;
}

/**
 * `recorded`: the file must also be the very shard the transcript records for the party (its
 * digest), checked last so that a shard of another key, epoch or custodian is named as such: a
 * drill vouches for that file, and for no other that happens to hold the same share.
 */
export async function openCustodianShard(s: Session, r: KeyRecord, name: string, o: { path?: string; identity?: string; recorded?: boolean } = {}): Promise<OpenedShard> {
  requireRotated(s.state, name);
  const path = o.path ?? shardPath(s.ws, name, r.keyId, r.epoch);
  const what = whatOf(name, path);
  const bytes = readBytes(path, what); // read before anyone types a passphrase
  refuseRetiredShard(s.state, sha256Hex(bytes), what);
  const custodian = await s.unlock(name, 'custodian', o.identity ? new Map([[name, o.identity]]) : undefined);
  const opened = await openShardAs(r, custodian, path, bytes);
  const role = shardRoleName(name, r.keyId, r.epoch);
  if (o.recorded && s.state.artifacts.get(role)?.sha256 !== opened.sha256) {
    throw new KeyriteError('DAMAGED_FILE', `${what} holds ${name}'s share, but it is not the file the transcript records as ${role}; check the shard exported last`);
  }
  return opened;
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

/** Refuses a shard file that a rotation replaced: it is sealed to an identity that was retired (src/state/rotation.ts). */
export function refuseRetiredShard(state: CustodyState, sha256: string, what: string): void {
  const r = state.retiredShards.get(sha256);
  if (r) {
    throw new KeyriteError('SHARD_RETIRED', `${what} is ${r.custodian}'s shard of key ${r.keyId} (epoch ${r.epoch}) as it was before rotation ${r.ceremony} re-wrapped it to ${r.custodian}'s new identity; it is never used again: destroy it and use the new shard`);
  }
}

const whatOf = (name: string, path: string): string => `the shard of ${name} (${path})`;

/** Where the custodians' shards and identities are when not at their standard paths. */
export interface ShardSources {
  shards?: Map<string, string>; // custodian → shard path
  identities?: IdentityPaths;
}

/**
 * Each named custodian opens their shard of the key's current epoch, in turn; with `confirm`,
 * each then confirms at once what their share is about to be used for (the script's checklist
 * for that step, with `context` on screen).
 */
export async function openShards(s: Session, r: KeyRecord, names: string[], from: ShardSources, confirm?: { script: string; step: string; context: (name: string) => string }): Promise<OpenedShard[]> {
  const opened: OpenedShard[] = [];
  for (const name of names) {
    const o = await openCustodianShard(s, r, name, { path: from.shards?.get(name), identity: from.identities?.get(name) });
    if (confirm) await s.checklist(confirm.script, confirm.step, confirm.context(name), o.custodian);
    opened.push(o);
  }
  return opened;
}
