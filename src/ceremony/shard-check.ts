import { relative } from 'node:path';
import { sha256Hex } from '../base/canonical.js';
import { withLock } from '../fs/lock.js';
import { readBytes, type Workspace } from '../fs/workspace.js';
import { loadKeyRecord } from '../state/key-record.js';
import { checkShardFor, openShard, shardPath } from '../custody/shard.js';
import { loadRoster, requireSealed } from '../state/roster.js';
import { inCeremony } from './evidence.js';
import type { Operator } from './operator.js';
import { unlockPerson } from './unlock.js';

// A drill (DESIGN §1): the custodian's passphrase opens their identity, the identity opens the
// shard, and the share inside is the one the key record expects for their party (its secret
// times the generator is that party's verifying share). Nothing is signed or changed.

export interface ShardCheckInput {
  ws: Workspace;
  keyId: string;
  custodian: string;
  shardPath?: string;
  identityPath?: string;
  operator: Operator;
}

export interface ShardCheckResult {
  keyId: string;
  epoch: number;
  custodian: string;
  party: string;
  path: string;
  sha256: string;
  ceremony: string;
}

export async function checkShard(i: ShardCheckInput): Promise<ShardCheckResult> {
  return withLock(i.ws.requireExists().root, `shard check ${i.custodian}`, async () => {
    const roster = requireSealed(loadRoster(i.ws));
    const r = loadKeyRecord(i.ws, i.keyId);
    const path = i.shardPath ?? shardPath(i.ws, i.custodian, r.keyId, r.epoch);
    const what = `the shard of ${i.custodian} (${path})`;
    const bytes = readBytes(path, what);
    const custodian = await unlockPerson(i.ws, roster, i.operator, i.custodian, 'custodian', i.identityPath);
    const shard = await openShard(bytes, custodian.ageIdentity, what);
    checkShardFor(r, shard, i.custodian, what);
    const sha256 = sha256Hex(bytes);
    const facts = { keyId: r.keyId, epoch: r.epoch, custodian: i.custodian, party: shard.party };
    const out = await inCeremony(i.ws, i.operator, { script: 'shard-check', actor: custodian, params: { keyId: r.keyId } }, async (c) => {
      await c.record({ step: 'drill.result', actor: custodian, params: { drill: 'shard', ...facts }, result: { ok: true }, subjects: [{ name: relative(i.ws.root, path), sha256 }] });
      return {};
    });
    return { ...facts, path, sha256, ceremony: out.ceremony };
  });
}
