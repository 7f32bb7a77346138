import { schnorr } from '@noble/curves/secp256k1.js';
import { verifyRaw } from '../base/ed25519.js';

// Verifiers that share no code with the threshold engines, so the demo shows that a threshold
// signature is an ordinary one: OpenSSL (node:crypto) for Ed25519, noble's BIP-340 schnorr.

export function independentVerify(engine: string, publicKeyHex: string, message: Uint8Array, signatureHex: string): boolean {
  const sig = Buffer.from(signatureHex, 'hex');
  if (engine === 'ed25519') return verifyRaw(publicKeyHex, message, sig);
  if (engine === 'bip340') return schnorr.verify(sig, message, Buffer.from(publicKeyHex, 'hex'));
  return false;
}
