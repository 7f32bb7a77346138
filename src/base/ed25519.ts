import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { canonical, fromHex, hex } from './canonical.js';

// The one Ed25519 (RFC 8032) of keyrite: evidence, approvals, protocol envelopes, requests and
// attestations are all signed and checked here, through node:crypto (OpenSSL). The threshold
// engines use noble's curves for FROST, never this module. Public keys travel as hex.

export interface SigningKey {
  seed: Uint8Array; // the 32-byte RFC 8032 secret key
  publicKey: string; // hex
}

// PKCS#8 and SPKI DER prefixes for a raw 32-byte Ed25519 key (RFC 8410 §7 and §4).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function privateKeyOf(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** The node:crypto key object for a hex Ed25519 public key; throws when it is not one. */
export function publicKeyObject(publicKeyHex: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, fromHex(publicKeyHex, 'Ed25519 public key', 32)]), format: 'der', type: 'spki' });
}

export function signingKeyFromSeed(seedHex: string | Uint8Array): SigningKey {
  const seed = typeof seedHex === 'string' ? fromHex(seedHex, 'Ed25519 secret key', 32) : Uint8Array.from(seedHex);
  if (seed.length !== 32) throw new Error('an Ed25519 secret key is 32 bytes');
  const spki = createPublicKey(privateKeyOf(seed)).export({ format: 'der', type: 'spki' });
  return { seed, publicKey: hex(spki.subarray(SPKI_PREFIX.length)) };
}

export function newSigningKey(): SigningKey {
  return signingKeyFromSeed(Uint8Array.from(randomBytes(32)));
}

/** The 64-byte signature of `message`. */
export function signRaw(key: SigningKey, message: Uint8Array): Buffer {
  return sign(null, message, privateKeyOf(key.seed));
}

export function signBytes(key: SigningKey, message: Uint8Array): string {
  return hex(signRaw(key, message));
}

/** Never throws: a malformed key or signature simply does not verify. */
export function verifyRaw(publicKey: KeyObject | string, message: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  try {
    return verify(null, message, typeof publicKey === 'string' ? publicKeyObject(publicKey) : publicKey, sig);
  } catch {
    return false;
  }
}

export function verifyBytes(publicKeyHex: string, message: Uint8Array, sigHex: string): boolean {
  if (!/^[0-9a-f]{128}$/.test(sigHex)) return false;
  return verifyRaw(publicKeyHex, message, Buffer.from(sigHex, 'hex'));
}

/** Signs the canonical JSON of `value` (a record without its signature field). */
export function signObject(key: SigningKey, value: unknown): string {
  return signBytes(key, Buffer.from(canonical(value), 'utf8'));
}

export function verifyObject(publicKeyHex: string, value: unknown, sigHex: string): boolean {
  return verifyBytes(publicKeyHex, Buffer.from(canonical(value), 'utf8'), sigHex);
}

/** Verifies many signatures by few keys, building each key object once (a transcript has few signers and many lines). */
export class Verifier {
  private readonly keys = new Map<string, KeyObject | null>();

  check(publicKeyHex: string, message: Uint8Array, sig: Uint8Array): boolean {
    let key = this.keys.get(publicKeyHex);
    if (key === undefined) {
      try {
        key = publicKeyObject(publicKeyHex);
      } catch {
        key = null;
      }
      this.keys.set(publicKeyHex, key);
    }
    return key !== null && verifyRaw(key, message, sig);
  }
}
