// GF(2^128) with the GCM polynomial x^128 + x^7 + x^2 + x + 1: the field of the KOS consistency
// check (ot-extension.ts). Not a cipher and not curve arithmetic — carry-less products and one
// reduction. An element is 16 bytes, bit i of the element = bit (i mod 8) of byte ⌊i/8⌋.

const MASK128 = (1n << 128n) - 1n;

export function toBig(b: Uint8Array, offset = 0): bigint {
  let v = 0n;
  for (let i = 15; i >= 0; i--) v = (v << 8n) | BigInt(b[offset + i]!);
  return v;
}

export function fromBig(v: bigint): Uint8Array {
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return b;
}

/** Reduces a carry-less product (< 2^255) modulo the field polynomial. */
function reduce(v: bigint): bigint {
  for (let pass = 0; pass < 2; pass++) {
    const hi = v >> 128n;
    v = (v & MASK128) ^ hi ^ (hi << 1n) ^ (hi << 2n) ^ (hi << 7n);
  }
  return v;
}

export function gfMul(a: bigint, b: bigint): bigint {
  let acc = 0n;
  for (let i = 0n; a >> i; i++) if ((a >> i) & 1n) acc ^= b << i;
  return reduce(acc);
}

const word = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;

/**
 * Σ_j χ_j·v_j over `count` pairs of 16-byte elements (χ from `chi`, v from `values`, both packed).
 * Bit-sliced: for each bit position k, XOR together the v_j whose χ_j has bit k set; then the sum
 * is Σ_k (that XOR)·x^k, reduced once at the end.
 */
export function gfDot(chi: Uint8Array, values: Uint8Array, count: number): bigint {
  const slices = new Uint32Array(128 * 4);
  for (let j = 0; j < count; j++) {
    const o = 16 * j;
    const v0 = word(values, o), v1 = word(values, o + 4), v2 = word(values, o + 8), v3 = word(values, o + 12);
    for (let w = 0; w < 4; w++) {
      let c = word(chi, o + 4 * w);
      while (c !== 0) {
        const low = c & -c;
        const k = 4 * (32 * w + 31 - Math.clz32(low));
        slices[k]! ^= v0;
        slices[k + 1]! ^= v1;
        slices[k + 2]! ^= v2;
        slices[k + 3]! ^= v3;
        c = (c ^ low) >>> 0;
      }
    }
  }
  let acc = 0n;
  for (let k = 0; k < 128; k++) {
    const s = BigInt(slices[4 * k]!) | (BigInt(slices[4 * k + 1]!) << 32n) | (BigInt(slices[4 * k + 2]!) << 64n) | (BigInt(slices[4 * k + 3]!) << 96n);
    if (s !== 0n) acc ^= s << BigInt(k);
  }
  return reduce(acc);
}
