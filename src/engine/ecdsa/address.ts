import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bech32 } from '@scure/base';
import { fromHex, hex } from '../../base/canonical.js';

// Addresses of an ecdsa group key (33-byte compressed secp256k1 point, hex). Hashes from
// @noble/hashes and bech32 from @scure/base; nothing is encoded by hand beyond EIP-55's casing.

/** Ethereum: last 20 bytes of keccak-256(X ‖ Y) of the uncompressed key, EIP-55 checksummed. */
export function ethereumAddress(publicKeyHex: string): string {
  const uncompressed = secp256k1.Point.fromBytes(fromHex(publicKeyHex, 'secp256k1 public key', 33)).toBytes(false);
  return eip55(hex(keccak_256(uncompressed.subarray(1)).subarray(12)));
}

/** EIP-55: a hex letter is upper case when the matching nibble of keccak-256(lowercase hex) is ≥ 8. */
export function eip55(addressHex: string): string {
  const lower = addressHex.toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{40}$/.test(lower)) throw new Error('an Ethereum address is 20 bytes of hex');
  const h = hex(keccak_256(new TextEncoder().encode(lower)));
  return '0x' + [...lower].map((c, i) => (parseInt(h[i]!, 16) >= 8 ? c.toUpperCase() : c)).join('');
}

/** BIP-141/173 P2WPKH mainnet: bech32, hrp `bc`, witness v0, program HASH160 of the compressed key. */
export function p2wpkhAddress(publicKeyHex: string): string {
  const program = ripemd160(sha256(fromHex(publicKeyHex, 'secp256k1 public key', 33)));
  return bech32.encode('bc', [0, ...bech32.toWords(program)]);
}
