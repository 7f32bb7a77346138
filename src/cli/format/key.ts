import type { ExportResult } from '../../ceremony/export.js';
import { taprootDescriptors, type TaprootDescriptors } from '../../engine/index.js';
import type { KeyRecord } from '../../state/key-record.js';

// How keys and their shards are shown: to the people at the table, and to scripts.

/** bip340: the wallet descriptors of the key (CEREMONY.md, Key generator, step 5). */
const descriptorsOf = (k: KeyRecord): TaprootDescriptors | undefined => (k.internalKey === undefined ? undefined : taprootDescriptors(k.internalKey, k.publicKey));

function taprootLines(k: KeyRecord): string[] {
  const d = descriptorsOf(k);
  if (!d) return [];
  return [
    `  internal key: ${k.internalKey} (BIP-341 key path only: no script tree)`,
    `  wallet descriptor (BIP-86 style): ${d.tr}`,
    `  output key descriptor:            ${d.rawtr}`,
  ];
}

export function keyLines(k: KeyRecord): string[] {
  return [
    `${k.label}: key ${k.keyId} (${k.engine}, ${k.threshold}-of-${k.parties.length}, epoch ${k.epoch}, ${k.status})`,
    `  public key: ${k.publicKey}`,
    ...taprootLines(k),
    ...Object.entries(k.addresses).map(([kind, a]) => `  ${kind} address: ${a}`),
    ...k.parties.map((p) => `  party ${p.party} on ${p.node}: custodian ${p.custodian}`),
  ];
}

/** A key record as `key list` and `key show` give it under --json. */
export function keySummary(k: KeyRecord): Record<string, unknown> {
  const d = descriptorsOf(k);
  return {
    keyId: k.keyId, label: k.label, engine: k.engine, epoch: k.epoch, status: k.status, publicKey: k.publicKey,
    ...(d ? { internalKey: k.internalKey, descriptors: d } : {}),
    threshold: k.threshold, addresses: k.addresses, custodians: k.parties.map((p) => p.custodian), parties: k.parties,
  };
}

export function exportLines(e: ExportResult): string[] {
  return [
    ...e.shards.map((s) => `  ${s.custodian} carries away ${s.path} (sha256 ${s.sha256.slice(0, 16)}…)`),
    e.nodesEmpty ? 'Every node deleted its copy and attested that it holds nothing for this key.' : 'The nodes keep their encrypted copies.',
  ];
}
