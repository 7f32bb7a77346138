import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { SigningKey } from './ed25519.js';

// DSSE envelopes (github.com/secure-systems-lab/dsse, protocol v1). A signature covers the
// pre-authentication encoding (PAE) of payload type and body, never the JSON around them, so
// re-serialising an envelope cannot change what was signed. Ed25519 goes through node:crypto:
// the signatures are the same RFC 8032 bytes noble makes, and verification is several times faster.

export const PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseSignature {
  keyid: string; // the signer's roster fingerprint
  sig: string; // base64 Ed25519 signature over PAE(payloadType, payload)
}

export interface Envelope {
  payloadType: string;
  payload: string; // base64 of the statement's canonical JSON
  signatures: DsseSignature[];
}

export interface EnvelopeSigner {
  keyid: string;
  key: SigningKey;
}

/** PAE = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal bytes. */
export function pae(payloadType: string, body: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const head = Buffer.from(`DSSEv1 ${type.length} ${payloadType} ${body.length} `, 'utf8');
  return Buffer.concat([head, body]);
}

// PKCS#8 and SPKI DER prefixes for a raw 32-byte Ed25519 key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function privateKeyOf(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function publicKeyOf(publicKeyHex: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicKeyHex, 'hex')]), format: 'der', type: 'spki' });
}

export function signEnvelope(body: Uint8Array, signers: EnvelopeSigner[]): Envelope {
  const message = pae(PAYLOAD_TYPE, body);
  return {
    payloadType: PAYLOAD_TYPE,
    payload: Buffer.from(body).toString('base64'),
    signatures: signers.map((s) => ({ keyid: s.keyid, sig: sign(null, message, privateKeyOf(s.key.seed)).toString('base64') })),
  };
}

/** Parses one transcript line into an envelope; throws an Error whose message is the reason. */
export function parseEnvelope(line: string): Envelope {
  let e: Partial<Envelope>;
  try {
    e = JSON.parse(line) as Partial<Envelope>;
  } catch {
    throw new Error('not valid JSON');
  }
  if (typeof e !== 'object' || e === null || typeof e.payload !== 'string' || !Array.isArray(e.signatures)) {
    throw new Error('not a DSSE envelope');
  }
  if (e.payloadType !== PAYLOAD_TYPE) throw new Error(`payloadType is ${JSON.stringify(e.payloadType)}, not ${PAYLOAD_TYPE}`);
  if (e.signatures.length === 0) throw new Error('envelope has no signatures');
  for (const s of e.signatures) {
    if (typeof s?.keyid !== 'string' || typeof s.sig !== 'string') throw new Error('malformed signature entry');
  }
  return e as Envelope;
}

/** Verifies Ed25519 signatures, building each public key object once: a transcript has few signers and many lines. */
export class SignatureChecker {
  private readonly keys = new Map<string, KeyObject | null>();

  check(publicKeyHex: string, message: Uint8Array, sigBase64: string): boolean {
    let key = this.keys.get(publicKeyHex);
    if (key === undefined) {
      key = /^[0-9a-f]{64}$/.test(publicKeyHex) ? safe(() => publicKeyOf(publicKeyHex)) : null;
      this.keys.set(publicKeyHex, key);
    }
    const sig = Buffer.from(sigBase64, 'base64');
    if (!key || sig.length !== 64) return false;
    return safe(() => verify(null, message, key, sig)) ?? false;
  }
}

function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}
