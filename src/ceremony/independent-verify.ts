import { createHash, createPublicKey, verify } from 'node:crypto';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { verifyRaw } from '../base/ed25519.js';

// Verifiers that share no code with the threshold engines, so the demo shows that a threshold
// signature is an ordinary one: OpenSSL (node:crypto) for Ed25519 and for ECDSA, noble's BIP-340
// schnorr. OpenSSL verifies ECDSA only over a message it hashes itself, so an ecdsa signature over
// a 32-byte digest is checked as ECDSA-SHA256 over the `preimage` whose sha256 that digest is.

export function independentVerify(engine: string, publicKeyHex: string, message: Uint8Array, signatureHex: string, preimage?: Uint8Array): boolean {
  const sig = Buffer.from(signatureHex, 'hex');
  if (engine === 'ed25519') return verifyRaw(publicKeyHex, message, sig);
  if (engine === 'bip340') return schnorr.verify(sig, message, Buffer.from(publicKeyHex, 'hex'));
  if (engine === 'ecdsa') return preimage !== undefined && sha256(preimage).equals(Buffer.from(message)) && opensslEcdsaVerifies(publicKeyHex, preimage, signatureHex);
  return false;
}

const sha256 = (m: Uint8Array): Buffer => createHash('sha256').update(m).digest();

/** OpenSSL verifies ECDSA-SHA256 over `message` under a compressed secp256k1 key; `signatureHex` is r ‖ s (‖ v, ignored). */
export function opensslEcdsaVerifies(publicKeyHex: string, message: Uint8Array, signatureHex: string): boolean {
  try {
    const p = secp256k1.Point.fromHex(publicKeyHex).toBytes(false);
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
    const key = createPublicKey({ key: { kty: 'EC', crv: 'secp256k1', x: b64(p.subarray(1, 33)), y: b64(p.subarray(33)) }, format: 'jwk' });
    return verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signatureHex.slice(0, 128), 'hex'));
  } catch {
    return false;
  }
}
