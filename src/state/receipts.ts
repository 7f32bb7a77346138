import { KeyriteError, shown } from '../base/errors.js';
import { shardRoleName } from './artifacts.js';
import { assignmentOf, type KeyRecord } from './key-record.js';

// A custodian's receipt for their shard (docs/ARCHITECTURE.md §6, "Who signs what"; README,
// "--delete-after-export"): export.receipt, signed by the custodian the party is assigned to,
// says that their identity opened the shard the node exported — the digest the node's
// export.shard recorded — and that the share inside matches the party's verifying share in the
// key record. A node deletes its copy of a party only once such a receipt is in the history it
// verified, so a shard that reached the wrong recipient, or holds the wrong share, never costs
// the party.

export interface ShardReceipt {
  keyId: string;
  epoch: number;
  party: string;
  custodian: string;
  /** sha256 of the shard file the custodian opened: the one its export.shard records. */
  shard: string;
  ceremony: string;
}

/** Where the fold keeps the receipt for one party of one epoch of a key. */
export const receiptSlot = (keyId: string, epoch: number, party: string): string => `${keyId}/e${epoch}/${party}`;

/**
 * The receipt an export.receipt entry makes, checked against the key as recorded: the current
 * epoch, signed (`actor`) by the party's own custodian, naming the shard digest its node
 * exported (`exported`: what export.shard recorded under the shard's role name) and the party's
 * verifying share. Throws BAD_CHANGE saying which of these fails.
 */
export function receiptOf(
  r: KeyRecord, e: { ceremony: string; actor: string; params: Record<string, unknown>; result: Record<string, unknown> },
  exported: (name: string) => { sha256: string } | undefined,
): ShardReceipt {
  const p = e.params;
  const wrong = (why: string) => new KeyriteError('BAD_CHANGE', `export.receipt in ${e.ceremony} for key ${r.keyId}: ${why}`);
  if (p.epoch !== r.epoch) throw wrong(`epoch ${shown(p.epoch)}, but the key is at epoch ${r.epoch}`);
  const a = assignmentOf(r, { node: shown(p.party) });
  if (e.actor !== a.custodian || p.custodian !== a.custodian || p.node !== a.node) {
    throw wrong(`signed by ${e.actor} for custodian ${shown(p.custodian)}, but party ${a.party} is assigned to ${a.custodian}`);
  }
  const shard = exported(shardRoleName(a.custodian, r.keyId, r.epoch));
  if (!shard || p.shard !== shard.sha256) {
    throw wrong(`${a.custodian} acknowledges shard ${shown(p.shard)}, but ${shard ? `${a.node} exported ${shard.sha256}` : `no export by ${a.node} is recorded`}`);
  }
  const verifyingShare = r.publicPackage.verifyingShares[a.party];
  if (e.result.verifyingShare !== verifyingShare) {
    throw wrong(`the share ${a.custodian} opened has verifying share ${shown(e.result.verifyingShare)}, not party ${a.party}'s ${verifyingShare}`);
  }
  return { keyId: r.keyId, epoch: r.epoch, party: a.party, custodian: a.custodian, shard: shard.sha256, ceremony: e.ceremony };
}
