import { createPublicKey, verify } from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1.js';

// Verifiers that share no code with the threshold engines, so the demo shows that a threshold
// signature is an ordinary one: OpenSSL (node:crypto) for Ed25519, noble's BIP-340 schnorr.

// SPKI DER for an Ed25519 public key (RFC 8410): a fixed 12-byte prefix, then the 32-byte key.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function independentVerify(engine: string, publicKeyHex: string, message: Uint8Array, signatureHex: string): boolean {
  const key = Buffer.from(publicKeyHex, 'hex');
  const sig = Buffer.from(signatureHex, 'hex');
  if (engine === 'ed25519') {
    return verify(null, message, createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, key]), format: 'der', type: 'spki' }), sig);
  }
  if (engine === 'bip340') return schnorr.verify(sig, message, key);
  return false;
}
