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
