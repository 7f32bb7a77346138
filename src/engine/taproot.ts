import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { fromHex, hex } from '../base/canonical.js';

// The Taproot output key of a bip340 key, from its internal key. noble's FROST DKG tweaks the
// group key for us (docs/ARCHITECTURE.md §3); this recomputes that tweak from the recorded
// internal key, so a reader (and every load of a key record) can see that the output key
// commits to no script tree. Only noble's primitives: lift_x, the tagged hash, its Point.

/**
 * BIP-341 `taproot_tweak_pubkey` with no script tree (the key-path-only output of BIP-341's
 * "Constructing and spending Taproot outputs" and BIP-86): Q = lift_x(x(P)) + int(hash_TapTweak(x(P)))·G,
 * returned as x(Q), whose even-y lift is the key BIP-340 signatures verify under.
 */
export function taprootOutputKey(internalKeyHex: string): string {
  const x = fromHex(internalKeyHex, 'x-only internal key', 32);
  const P = schnorr.utils.lift_x(bytesToNumberBE(x));
  const t = bytesToNumberBE(schnorr.utils.taggedHash('TapTweak', x));
  // BIP-341: "if t >= SECP256K1_ORDER: raise ValueError" (never reduced modulo n).
  if (!schnorr.Point.Fn.isValidNot0(t)) throw new Error('TapTweak hash is not a valid scalar');
  return hex(schnorr.utils.pointToBytes(P.add(schnorr.Point.BASE.multiply(t))));
}
