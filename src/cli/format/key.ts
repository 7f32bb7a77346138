import type { ExportResult } from '../../ceremony/export.js';
import type { EpochChange } from '../../ceremony/refresh.js';
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
    ...k.parties.map((p) => `  party ${p.party} on ${p.node}: custodian ${p.custodian} (fingerprint ${p.fingerprint})`),
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

/** An export's result under --json: its shards and, with deletion, which nodes deleted, which kept their share, and what to do next. */
export function exportData(e: ExportResult, keyId: string, deleteAfter: boolean): Record<string, unknown> {
  const next = nextStep(e, keyId);
  return { shards: e.shards, nodesEmpty: e.nodesEmpty, ...(deleteAfter ? { deleted: e.deleted, kept: e.kept } : {}), ...(e.setAside.length ? { setAside: e.setAside } : {}), ...(next ? { next } : {}) };
}

export function exportLines(e: ExportResult, keyId: string): string[] {
  const lines = e.setAside.map((f) => `  A shard file no entry records (left by an interrupted export) was moved aside to ${f}; it is not used.`);
  lines.push(...e.shards.map((s) => `  ${s.custodian} carries away ${s.path} (sha256 ${s.sha256.slice(0, 16)}…)`));
  if (e.nodesEmpty) return [...lines, 'Every node deleted its copy after its custodian\'s receipt, and attested that it holds nothing for this key.'];
  if (!e.deleted.length && !e.kept.length) return [...lines, 'The nodes keep their encrypted copies.'];
  if (e.deleted.length) lines.push(`Deleted after their custodians' receipts, and attested empty: ${e.deleted.join(', ')}.`);
  for (const k of e.kept) lines.push(`${k.node} keeps its share of party ${k.party}: ${k.reason}.`);
  return [...lines, `Next: ${nextStep(e, keyId)}`];
}

/** When a node kept its share for want of a receipt: how to finish. */
function nextStep(e: ExportResult, keyId: string): string | undefined {
  if (!e.kept.length) return undefined;
  const who = e.kept.map((k) => k.custodian).join(' and ');
  return `with ${who} present, run \`keyrite export --key ${keyId} --delete-after-export\` (their --passphrase-file, and --shard NAME=PATH for a shard no longer in their holdings); until then those nodes keep their encrypted copies.`;
}

/** A key's public face before and after an epoch change (refresh, reshare), so anyone can see it did not move. */
export function epochData(c: EpochChange): Record<string, unknown> {
  const face = { publicKey: c.publicKey, addresses: c.addresses };
  return { keyId: c.keyId, engine: c.engine, epochBefore: c.epochBefore, epoch: c.epoch, before: { epoch: c.epochBefore, ...face }, after: { epoch: c.epoch, ...face } };
}

export function epochLines(c: EpochChange, what: string): string[] {
  return [
    `✓ Key ${c.keyId} (${c.engine}) ${what}: epoch ${c.epochBefore} → ${c.epoch}; the public key and addresses did not change.`,
    `  public key: ${c.publicKey}`,
    ...Object.entries(c.addresses).map(([kind, a]) => `  ${kind} address: ${a}`),
    `Shards of epoch ${c.epochBefore} no longer sign; once \`keyrite audit verify\` passes, their holders destroy them.`,
  ];
}
