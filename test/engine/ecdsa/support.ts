import { createHash, createPublicKey, verify as osslVerify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { fromHex } from '../../../src/base/canonical.js';
import type { Share } from '../../../src/engine/index.js';

// Shared pieces of the ecdsa engine tests: verifiers that share no code with the engine, and
// signer subsets.

export const sha256 = (m: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(m).digest());

/** OpenSSL (node:crypto) verifies ECDSA-SHA256 over `message`, whose sha256 is the digest signed. */
export function opensslVerifies(publicKeyHex: string, message: Uint8Array, signatureHex: string): boolean {
  const p = secp256k1.Point.fromBytes(fromHex(publicKeyHex, 'key', 33)).toBytes(false);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'secp256k1', x: b64(p.subarray(1, 33)), y: b64(p.subarray(33)) }, format: 'jwk' });
  return osslVerify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, fromHex(signatureHex.slice(0, 128), 'sig'));
}

export function nobleVerifies(publicKeyHex: string, digest: Uint8Array, signatureHex: string): boolean {
  return secp256k1.verify(fromHex(signatureHex.slice(0, 128), 'sig'), digest, fromHex(publicKeyHex, 'key'), { prehash: false, lowS: true });
}

/** The public key recovered from (r, s, v), hex compressed. */
export function recovered(digest: Uint8Array, signatureHex: string): string {
  const v = parseInt(signatureHex.slice(128), 16);
  const sig = secp256k1.Signature.fromBytes(fromHex(signatureHex.slice(0, 128), 'sig')).addRecoveryBit(v);
  return sig.recoverPublicKey(digest).toHex(true);
}

export function subsets<T>(xs: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  return xs.flatMap((x, i) => subsets(xs.slice(i + 1), k - 1).map((rest) => [x, ...rest]));
}

export const pick = (shares: Record<string, Share>, names: readonly string[]): Share[] => names.map((n) => shares[n]!);
