import { encryptTo, isRecipient } from '../base/age.js';
import { KeyriteError } from '../base/errors.js';
import { taprootDescriptors, type RecoveredKey } from '../engine/index.js';
import type { KeyRecord } from '../state/key-record.js';

// The emergency output (CEREMONY.md, "Emergency: recovering the private key"; docs/ARCHITECTURE.md
// §2): the private key rebuilt from t shards, as a small labelled JSON document that says what
// the secret is and is not, sealed to one named age X25519 recipient. It exists in plaintext only
// in memory, and that buffer is wiped once sealed; keyrite never prints or writes it as such.

export const RECOVERED_KIND = 'keyrite/recovered-private-key';

/** What the recipient finds inside the age file. */
export interface RecoveredDocument {
  kind: typeof RECOVERED_KIND;
  /** The engine's words for the secret, so nobody imports an ed25519 scalar as an RFC 8032 seed. */
  what: string;
  /** How a wallet takes it, where one can. */
  use: string;
  keyId: string;
  label: string;
  engine: string;
  epoch: number;
  /** The key record's public key: the secret times the base point gives it (checked before sealing). */
  publicKey: string;
  /** bip340 only: x(Q) and the `rawtr(x(Q))` descriptor `key show` prints for the key. */
  outputKey?: string;
  descriptor?: string;
  /** The secret, hex, in the encoding `what` names. */
  secret: string;
}

const USE: Record<string, string> = {
  ed25519: 'A raw scalar s with s·B = publicKey (RFC 8032 §5.1.5 computes s from a seed by hashing; this is s itself). Software that asks for a 32-byte seed cannot take it; sign with s directly (an expanded-key API) or sweep the funds.',
  bip340: 'The secret key of the Taproot output key Q itself, with no tweak left to apply: import it into a rawtr() descriptor (Bitcoin Core 24.0 and later), not a tr() one, whose tweak would be applied a second time.',
  ecdsa: 'An ordinary secp256k1 private key; any secp256k1 wallet imports it (e.g. as WIF).',
};

/** Refuses anything but an age X25519 recipient: the only place the secret may go. */
export function checkRecoveryRecipient(to: string): string {
  if (!isRecipient(to)) throw new KeyriteError('BAD_RECIPIENT', `"${to}" is not an age X25519 recipient (age1… from age-keygen or keyrite); the recovered key is written only encrypted to one`);
  return to;
}

function documentOf(r: KeyRecord, k: RecoveredKey): RecoveredDocument {
  const taproot = r.internalKey === undefined ? {} : { outputKey: r.publicKey, descriptor: taprootDescriptors(r.internalKey, r.publicKey).rawtr };
  return {
    kind: RECOVERED_KIND, what: k.kind, use: USE[r.engine] ?? k.kind,
    keyId: r.keyId, label: r.label, engine: r.engine, epoch: r.epoch, publicKey: r.publicKey, ...taproot, secret: k.scalar,
  };
}

/** The document sealed to `recipient` (armored age); the plaintext buffer is wiped before this returns. */
export async function sealRecoveredKey(r: KeyRecord, k: RecoveredKey, recipient: string): Promise<Uint8Array> {
  const plaintext = Buffer.from(JSON.stringify(documentOf(r, k), null, 2) + '\n', 'utf8');
  try {
    return await encryptTo([checkRecoveryRecipient(recipient)], plaintext, true);
  } finally {
    plaintext.fill(0);
  }
}
