import { base58, bech32m } from '@scure/base';
import { fromHex } from '../base/canonical.js';
import { ethereumAddress, p2wpkhAddress } from './ecdsa/address.js';

// Addresses of a group key; encoders from @scure/base, none by hand.

/** Solana: the 32-byte Ed25519 public key in base58. */
export function solanaAddress(publicKeyHex: string): string {
  return base58.encode(fromHex(publicKeyHex, 'Ed25519 public key', 32));
}

/** BIP-341/350 P2TR mainnet: bech32m, hrp `bc`, witness v1, program x(Q). Q is used as is. */
export function taprootAddress(outputKeyHex: string): string {
  const program = fromHex(outputKeyHex, 'x-only output key', 32);
  return bech32m.encode('bc', [1, ...bech32m.toWords(program)]);
}

export { ethereumAddress, p2wpkhAddress };

export function addressesOf(engine: string, publicKeyHex: string): Record<string, string> {
  if (engine === 'ed25519') return { solana: solanaAddress(publicKeyHex) };
  if (engine === 'bip340') return { p2tr: taprootAddress(publicKeyHex) };
  if (engine === 'ecdsa') return { ethereum: ethereumAddress(publicKeyHex), p2wpkh: p2wpkhAddress(publicKeyHex) };
  return {};
}
