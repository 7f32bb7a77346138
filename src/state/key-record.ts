import { KeyriteError } from '../base/errors.js';
import { createFile } from '../fs/atomic.js';
import { readJson, type Workspace } from '../fs/workspace.js';
import { getEngine, type PublicPackage } from '../engine/index.js';

// The public record of a key (DESIGN §6): keys/<keyId>.json. It lives below the ceremony layer
// because nodes read it too: a node takes the party → custodian assignment from here, never from
// whoever drives it, so a coordinator cannot redirect a shard or forge a signer.

export type KeyStatus = 'active' | 'retired' | 'compromised';

export interface PartyAssignment {
  party: string; // the engine's holder name, which is the node's id
  node: string;
  custodian: string;
}

export interface KeyRecord {
  v: 1;
  keyId: string;
  label: string;
  engine: string;
  epoch: number;
  publicKey: string;
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

export function loadKeyRecord(ws: Workspace, keyId: string): KeyRecord {
  const path = ws.keyFile(checkKeyId(keyId));
  const r = readJson<KeyRecord>(path, `the record of key ${keyId}`);
  const bad = () => new KeyriteError('DAMAGED_FILE', `the record of key ${keyId} (${path}) is not a keyrite key record`);
  if (r.v !== 1 || r.keyId !== keyId || !Array.isArray(r.parties)) throw bad();
  let pkg: PublicPackage;
  try {
    pkg = getEngine(r.engine).parsePublicPackage(r.publicPackage, `the record of key ${keyId}`);
  } catch {
    throw bad();
  }
  // The record's summary fields must say what its public package says.
  if (pkg.keyId !== keyId || pkg.epoch !== r.epoch || pkg.groupPublicKey !== r.publicKey || pkg.threshold !== r.threshold) throw bad();
  if (r.parties.map((p) => p.party).join() !== pkg.parties.join()) throw bad();
  return r;
}

export function createKeyRecord(ws: Workspace, r: KeyRecord): string {
  ws.mkdirs(ws.keysDir);
  createFile(ws.keyFile(r.keyId), JSON.stringify(r, null, 2) + '\n', 0o644);
  return ws.keyFile(r.keyId);
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
