import { canonical } from './canonical.js';
import { signRaw, type SigningKey } from './ed25519.js';

// DSSE envelopes (github.com/secure-systems-lab/dsse, protocol v1). A signature covers the
// pre-authentication encoding (PAE) of payload type and body, never the JSON around them, so
// re-serialising an envelope cannot change what was signed.

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

export function signEnvelope(body: Uint8Array, signers: EnvelopeSigner[]): Envelope {
  const message = pae(PAYLOAD_TYPE, body);
  return {
    payloadType: PAYLOAD_TYPE,
    payload: Buffer.from(body).toString('base64'),
    signatures: signers.map((s) => ({ keyid: s.keyid, sig: signRaw(s.key, message).toString('base64') })),
  };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The bytes of strict, canonical base64 (RFC 4648 §4, padded, no whitespace, unused bits zero):
 * exactly one spelling per byte string, so re-encoding a payload or signature cannot yield
 * another line that still verifies (Node's decoder alone skips junk and ignores the padding bits).
 */
export function strictBase64(s: string, what: string): Buffer {
  const bytes = BASE64.test(s) ? Buffer.from(s, 'base64') : undefined;
  if (!bytes || bytes.toString('base64') !== s) throw new Error(`${what} is not canonical base64`);
  return bytes;
}

/**
 * Parses an envelope's JSON text; throws an Error whose message is the reason. Payload and
 * signatures must be strict base64 (strictBase64).
 */
export function parseEnvelope(line: string): Envelope {
  return envelopeOf(parseJson(line));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error('not valid JSON');
  }
}

function envelopeOf(value: unknown): Envelope {
  const e = value as Partial<Envelope>;
  if (typeof e !== 'object' || e === null || typeof e.payload !== 'string' || !Array.isArray(e.signatures)) {
    throw new Error('not a DSSE envelope');
  }
  if (e.payloadType !== PAYLOAD_TYPE) throw new Error(`payloadType is ${JSON.stringify(e.payloadType)}, not ${PAYLOAD_TYPE}`);
  if (e.signatures.length === 0) throw new Error('envelope has no signatures');
  for (const s of e.signatures) {
    if (typeof s?.keyid !== 'string' || typeof s.sig !== 'string') throw new Error('malformed signature entry');
    strictBase64(s.sig, 'a signature');
  }
  strictBase64(e.payload, 'the payload');
  return e as Envelope;
}

/**
 * Parses one transcript line, which must be its envelope's RFC 8785 canonical JSON byte for byte
 * (docs/ARCHITECTURE.md §6, "Canonical lines"): a line's digest is the chain's link, so any
 * re-encoding (whitespace, key order, a duplicate key, another escape) that still verified would
 * be a second head for the same history.
 */
export function parseLine(line: string): Envelope {
  const value = parseJson(line);
  const e = envelopeOf(value);
  if (canonical(value) !== line) throw new Error('the line is not its envelope\'s canonical JSON (RFC 8785)');
  return e;
}
