import { createHash } from 'node:crypto';
import { opensslEcdsaVerifies } from '../../../src/ceremony/independent-verify.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { fromHex } from '../../../src/base/canonical.js';
import type { Share } from '../../../src/engine/index.js';

// Shared pieces of the ecdsa engine tests: verifiers that share no code with the engine, and
// signer subsets.

export const sha256 = (m: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(m).digest());

/** OpenSSL (node:crypto) verifies ECDSA-SHA256 over `message`, whose sha256 is the digest signed. */
export const opensslVerifies = opensslEcdsaVerifies;

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
