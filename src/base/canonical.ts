import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';

// RFC 8785 canonical JSON: the one byte form that every digest and signature in keyrite covers.

export function canonical(value: unknown): string {
  const s = canonicalize(value);
  if (s === undefined) throw new Error('value has no canonical JSON form');
  return s;
}

/** The canonical JSON of `value`, indented for people, with a final newline: for public files whose bytes a digest covers. */
export function canonicalPretty(value: unknown): string {
  return JSON.stringify(JSON.parse(canonical(value)), null, 2) + '\n';
}

export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

export function sha256Hex(data: Uint8Array | string): string {
  return sha256(data).toString('hex');
}

/** sha256 (hex) of the canonical JSON of `value`. */
export function digestOf(value: unknown): string {
  return sha256Hex(canonical(value));
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function fromHex(s: string, what: string, length?: number): Uint8Array {
  if (!/^([0-9a-f]{2})*$/i.test(s) || (length !== undefined && s.length !== 2 * length)) {
    throw new Error(`${what} is not ${length ? `${length} bytes of ` : ''}hex`);
  }
  return Uint8Array.from(Buffer.from(s, 'hex'));
}
