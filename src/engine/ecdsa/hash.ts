import { createHash } from 'node:crypto';
import { numberToBytesBE } from '@noble/curves/utils.js';
import { Fn } from './suite.js';

// Domain-separated hashing for the ecdsa engine. Every use has its own tag, and every input part
// is length-prefixed, so no two different inputs can hash alike. The hash is SHAKE256 (FIPS 202)
// from node:crypto (OpenSSL): the same function as @noble/hashes' shake256 — a test checks that
// they agree — chosen here because the OT extension calls it thousands of times per signature and
// OpenSSL's is several times faster. Nothing in this file is a hash of our own.

const enc = new TextEncoder();

export type Part = Uint8Array | string | number;

function bytesOf(part: Part): Uint8Array {
  if (typeof part === 'string') return enc.encode(part);
  if (typeof part === 'number') return u32(part);
  return part;
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, false);
  return b;
}

/** SHAKE256(tag ‖ parts), each prefixed with its 4-byte length, `length` bytes out. */
export function tagged(tag: string, parts: readonly Part[], length = 32): Uint8Array {
  const h = createHash('shake256', { outputLength: length });
  const t = enc.encode(`keyrite/ecdsa/${tag}`);
  h.update(u32(t.length)).update(t);
  for (const p of parts) {
    const b = bytesOf(p);
    h.update(u32(b.length)).update(b);
  }
  return new Uint8Array(h.digest());
}

/**
 * `tagged(tag, [...prefix, ...rest], length)` for many `rest` with one fixed prefix: the prefix is
 * absorbed once and the SHAKE state copied per call (the OT extension's per-row hashes).
 */
export function taggedWith(tag: string, prefix: readonly Part[]): (rest: readonly Part[], length: number) => Uint8Array {
  const base = createHash('shake256');
  const t = enc.encode(`keyrite/ecdsa/${tag}`);
  base.update(u32(t.length)).update(t);
  for (const p of prefix) {
    const b = bytesOf(p);
    base.update(u32(b.length)).update(b);
  }
  return (rest, length) => {
    const h = base.copy({ outputLength: length });
    for (const p of rest) {
      const b = bytesOf(p);
      h.update(u32(b.length)).update(b);
    }
    return new Uint8Array(h.digest());
  };
}

/** 48-byte big-endian chunks of `out` as scalars mod n. */
export function toScalars(out: Uint8Array, count: number): bigint[] {
  const hex = Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('hex');
  const scalars: bigint[] = [];
  for (let i = 0; i < count; i++) scalars.push(Fn.create(BigInt('0x' + hex.slice(96 * i, 96 * i + 96))));
  return scalars;
}

/** `count` scalars mod n from one hash call: 48 bytes each, so the bias is below 2^-128. */
export function hashToScalars(tag: string, parts: readonly Part[], count: number): bigint[] {
  return toScalars(tagged(tag, parts, 48 * count), count);
}

export const hashToScalar = (tag: string, parts: readonly Part[]): bigint => hashToScalars(tag, parts, 1)[0]!;

export const scalarBytes = (s: bigint): Uint8Array => numberToBytesBE(s, 32);
