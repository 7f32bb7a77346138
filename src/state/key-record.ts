import { KeyriteError } from '../base/errors.js';
import { addressesOf, getEngine, type PublicPackage } from '../engine/index.js';

// The public record of a key (docs/ARCHITECTURE.md §6) and its transitions: created by keygen, its epoch
// advanced by refresh and reshare (same key id and public key), then retired or compromised.
// The record is carried whole by the entry that makes each transition, so the fold rebuilds it
// from the transcript alone; keys/<keyId>.json is a cache written from the fold.

export type KeyStatus = 'active' | 'retired' | 'compromised';

export interface PartyAssignment {
  party: string; // the engine's holder name, which is the node's id
  node: string;
  custodian: string;
  /**
   * The custodian's age recipient as the roster in force held it when the record was made: the
   * only recipient a node encrypts this party's shard to (docs/ARCHITECTURE.md §6, "Key records").
   */
  recipient: string;
  /** The custodian's fingerprint in that roster, for people to compare aloud (src/state/identity.ts). */
  fingerprint: string;
}

export interface KeyRecord {
  v: 1;
  keyId: string;
  label: string;
  engine: string;
  epoch: number;
  publicKey: string;
  /**
   * bip340 only: x(P), the BIP-341 internal key whose key-path-only tweak is `publicKey` (Q), so
   * anyone can see the key has no script path; `tr(x(P))` in a wallet. Absent for other engines.
   */
  internalKey?: string;
  threshold: number;
  parties: PartyAssignment[];
  publicPackage: PublicPackage;
  addresses: Record<string, string>;
  status: KeyStatus;
}

export const KEY_ID = /^k[0-9a-f]{16}$/;

export function checkKeyId(keyId: string): string {
  if (!KEY_ID.test(keyId)) throw new KeyriteError('BAD_KEY_ID', `"${keyId}" is not a key id (k followed by 16 hex digits)`);
  return keyId;
}

/**
 * Checks that `x` is a well-formed key record whose summary fields say what its public package
 * says, and whose addresses are derived from its public key (never taken as written).
 */
export function checkKeyRecord(x: unknown, what: string): KeyRecord {
  const r = x as Partial<KeyRecord> | null;
  const bad = (why: string) => new KeyriteError('DAMAGED_FILE', `${what} is not a keyrite key record: ${why}`);
  if (typeof r !== 'object' || r === null || r.v !== 1 || typeof r.keyId !== 'string' || !KEY_ID.test(r.keyId)) throw bad('no key id');
  if (!Array.isArray(r.parties) || typeof r.engine !== 'string' || typeof r.label !== 'string') throw bad('fields missing');
  if (!['active', 'retired', 'compromised'].includes(String(r.status))) throw bad(`status ${String(r.status)}`);
  let pkg: PublicPackage;
  try {
    pkg = getEngine(r.engine).parsePublicPackage(r.publicPackage, what);
  } catch (e) {
    throw new KeyriteError('DAMAGED_FILE', `${what} is not a keyrite key record: ${(e as Error).message}`, { cause: e });
  }
  if (pkg.keyId !== r.keyId || pkg.epoch !== r.epoch || pkg.groupPublicKey !== r.publicKey || pkg.threshold !== r.threshold) throw bad('its summary differs from its public package');
  checkInternalKey(r, pkg, bad);
  const parties = r.parties as unknown[];
  const wellFormed = parties.every((p) => typeof p === 'object' && p !== null && ['party', 'node', 'custodian', 'recipient', 'fingerprint'].every((k) => typeof (p as Record<string, unknown>)[k] === 'string'));
  if (!wellFormed) throw bad('an entry of its parties does not name its party, node, custodian, and the custodian\'s pinned recipient and fingerprint');
  if (r.parties.map((p) => p.party).join() !== pkg.parties.join()) throw bad('its parties differ from its public package');
  if (JSON.stringify(r.addresses) !== JSON.stringify(addressesOf(r.engine, r.publicKey))) throw bad('its addresses are not those of its public key');
  return r as KeyRecord;
}

/**
 * bip340: the record's internal key is its public package's, which the engine's parser has just
 * checked tweaks (BIP-341, no script tree) to the public key; other engines have none.
 */
function checkInternalKey(r: Partial<KeyRecord>, pkg: PublicPackage, bad: (why: string) => Error): void {
  if (r.internalKey !== pkg.internalKey) {
    throw bad(`key ${r.keyId} names internal key ${r.internalKey ?? '(none)'} but its public package ${pkg.internalKey ?? '(none)'}`);
  }
}

/** The key after refresh or reshare: the same key and public key, one epoch on, still active. */
export function advanceEpoch(old: KeyRecord, next: KeyRecord): KeyRecord {
  const refuse = (why: string) => new KeyriteError('BAD_CHANGE', `key ${old.keyId} cannot move to epoch ${next.epoch}: ${why}`);
  if (old.status !== 'active') throw refuse(`it is ${old.status}`);
  if (next.keyId !== old.keyId || next.publicKey !== old.publicKey || next.engine !== old.engine) throw refuse('the new record is of another key');
  if (next.internalKey !== old.internalKey) throw refuse(`the new record names internal key ${next.internalKey ?? '(none)'}, not ${old.internalKey ?? '(none)'}`);
  if (next.epoch !== old.epoch + 1) throw refuse(`it is at epoch ${old.epoch}`);
  if (next.status !== 'active') throw refuse(`the new record is ${next.status}`);
  return next;
}

/** The key retired (no more signing; shards may be destroyed) or compromised (its secret was rebuilt). */
export function endKey(r: KeyRecord, status: 'retired' | 'compromised'): KeyRecord {
  if (r.status === 'compromised' || (r.status === 'retired' && status === 'retired')) {
    throw new KeyriteError('BAD_CHANGE', `key ${r.keyId} is ${r.status} already`);
  }
  return { ...r, status };
}

/** The assignment of `node` (or of `custodian`) in the key; a clear error when there is none. */
export function assignmentOf(r: KeyRecord, by: { node?: string; custodian?: string }): PartyAssignment {
  const a = r.parties.find((p) => (by.node === undefined || p.node === by.node) && (by.custodian === undefined || p.custodian === by.custodian));
  if (!a) {
    const who = by.node ? `node ${by.node}` : `custodian ${by.custodian}`;
    throw new KeyriteError('NOT_A_HOLDER', `${who} holds no party of key ${r.keyId} (parties: ${r.parties.map((p) => `${p.node}→${p.custodian}`).join(', ')})`);
  }
  return a;
}
