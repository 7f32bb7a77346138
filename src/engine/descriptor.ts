// Output script descriptors for a bip340 key, so a standard wallet can watch it (CEREMONY.md,
// Key generator, step 5). The checksum is BIP-380's "Checksum" section: a BCH code over the
// descriptor's characters (an error-detecting code like bech32's, not a hash), written out
// here because no dependency of ours carries it.

// BIP-380 "Character Set": three groups of 32; a symbol is a position within its group, and
// every three characters add a symbol for their three group numbers.
const INPUT_CHARSET = '0123456789()[],\'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#"\\ ';
const CHECKSUM_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];

function polymod(symbols: number[]): bigint {
  let chk = 1n;
  for (const value of symbols) {
    const top = chk >> 35n;
    chk = ((chk & 0x7ffffffffn) << 5n) ^ BigInt(value);
    GENERATOR.forEach((g, i) => {
      if ((top >> BigInt(i)) & 1n) chk ^= g;
    });
  }
  return chk;
}

function expand(descriptor: string): number[] {
  const symbols: number[] = [];
  let groups: number[] = [];
  for (const c of descriptor) {
    const v = INPUT_CHARSET.indexOf(c);
    if (v < 0) throw new Error(`descriptor character ${JSON.stringify(c)} is outside BIP-380's character set`);
    symbols.push(v & 31);
    groups.push(v >> 5);
    if (groups.length === 3) {
      symbols.push(groups[0]! * 9 + groups[1]! * 3 + groups[2]!);
      groups = [];
    }
  }
  if (groups.length === 1) symbols.push(groups[0]!);
  if (groups.length === 2) symbols.push(groups[0]! * 3 + groups[1]!);
  return symbols;
}

/** BIP-380 descriptor checksum: the 8 characters that follow `#`. */
export function descriptorChecksum(descriptor: string): string {
  const c = polymod([...expand(descriptor), 0, 0, 0, 0, 0, 0, 0, 0]) ^ 1n;
  return Array.from({ length: 8 }, (_, i) => CHECKSUM_CHARSET[Number((c >> BigInt(5 * (7 - i))) & 31n)]).join('');
}

/** `descriptor#checksum` (BIP-380). */
const withChecksum = (descriptor: string): string => `${descriptor}#${descriptorChecksum(descriptor)}`;

/** The two descriptors of one P2TR output, both giving the same address. */
export interface TaprootDescriptors {
  /** BIP-386 `tr(x(P))`: the internal key, key path only, no script tree; what a BIP-86-style wallet imports. */
  tr: string;
  /** `rawtr(x(Q))` (Bitcoin Core 24.0 and later; in no BIP): the output key itself, no tweak applied. */
  rawtr: string;
}

/** Descriptors for a bip340 key of internal key x(P) and output key x(Q) (checked on load: key-record.ts). */
export function taprootDescriptors(internalKey: string, outputKey: string): TaprootDescriptors {
  return { tr: withChecksum(`tr(${internalKey})`), rawtr: withChecksum(`rawtr(${outputKey})`) };
}
