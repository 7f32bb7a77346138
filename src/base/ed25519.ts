import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { canonical, fromHex, hex } from './canonical.js';

// Ed25519 keys that sign evidence, approvals and protocol messages. Public keys travel as hex.

export interface SigningKey {
  seed: Uint8Array; // 32-byte RFC 8032 secret key
  publicKey: string; // hex
}

export function newSigningKey(): SigningKey {
  const seed = Uint8Array.from(randomBytes(32));
  return { seed, publicKey: hex(ed25519.getPublicKey(seed)) };
}

export function signingKeyFromSeed(seedHex: string): SigningKey {
  const seed = fromHex(seedHex, 'Ed25519 secret key', 32);
  return { seed, publicKey: hex(ed25519.getPublicKey(seed)) };
}

export function signBytes(key: SigningKey, message: Uint8Array): string {
  return hex(ed25519.sign(message, key.seed));
}

export function verifyBytes(publicKeyHex: string, message: Uint8Array, sigHex: string): boolean {
  try {
    return ed25519.verify(fromHex(sigHex, 'signature', 64), message, fromHex(publicKeyHex, 'public key', 32));
  } catch {
    return false;
  }
}

/** Signs the canonical JSON of `value` (a record without its signature field). */
export function signObject(key: SigningKey, value: unknown): string {
  return signBytes(key, Buffer.from(canonical(value), 'utf8'));
}

export function verifyObject(publicKeyHex: string, value: unknown, sigHex: string): boolean {
  return verifyBytes(publicKeyHex, Buffer.from(canonical(value), 'utf8'), sigHex);
}
