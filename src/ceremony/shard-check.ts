import type { Workspace } from '../fs/workspace.js';
import { shardRoleName } from '../custody/shard.js';
import type { Sealed } from '../evidence/writer.js';
import type { Operator } from './kernel/operator.js';
import { withSession } from './kernel/session.js';
import { openCustodianShard } from './kernel/shards.js';

// shard check: a drill (docs/ARCHITECTURE.md §1). The custodian's passphrase opens their identity, the
// identity opens the shard, and the share inside is the one the key record expects for their
// party (its secret times the generator is that party's verifying share). Nothing is signed
// or changed, and the file must be the shard the transcript recorded. Records, in order:
// ceremony.start, its checklist confirmations, drill.result (naming the shard by its role,
// wherever the custodian keeps it, with the digest on record), ceremony.seal.

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
  sealed: Sealed;
}

export async function checkShard(i: ShardCheckInput): Promise<ShardCheckResult> {
  return withSession({ ws: i.ws, operator: i.operator, label: `shard check ${i.custodian}` }, async (s) => {
    const r = s.key(i.keyId, { any: true });
    const { custodian, shard, path, sha256 } = await openCustodianShard(s, r, i.custodian, { path: i.shardPath, identity: i.identityPath, recorded: true });
    const facts = { keyId: r.keyId, epoch: r.epoch, custodian: i.custodian, party: shard.party };
    const out = await s.run({ script: 'shard-check', actor: custodian, params: { keyId: r.keyId } }, async (c) => {
      await c.record({ step: 'drill.result', actor: custodian, params: { drill: 'shard', ...facts }, result: { ok: true }, subjects: [{ name: shardRoleName(i.custodian, r.keyId, r.epoch), sha256 }] });
      return {};
    });
    return { ...facts, path, sha256, ceremony: out.ceremony, sealed: out.sealed };
  });
}
