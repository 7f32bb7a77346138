import { canonicalPretty } from '../base/canonical.js';
import { signObject, verifyObject } from '../base/ed25519.js';
import { publicOf, type Identity } from '../custody/identity.js';

// A signing receipt (docs/ARCHITECTURE.md §6, "Checkpoints and receipts"): after a sign
// ceremony is sealed, each signing custodian is handed a statement, signed by the ceremony's
// actor (the generator), naming the ceremony, its seal's head digest, the key and the message
// digest. It lives in the custodian's holdings and leaves with them; `audit verify` given it
// fails if that ceremony or that seal is missing from the chain, so erasing the tail of the
// history (a sign ceremony deleted, or garbled into "damage") cannot go unnoticed by anyone who
// kept their receipt. The receipt proves nothing alone: it is checked against the chain, and its
// signature against the key the roster gave the seal's signer at that point.

export const RECEIPT_KIND = 'keyrite/sign-receipt' as const;

export interface SignReceipt {
  v: 1;
  kind: typeof RECEIPT_KIND;
  /** The sign ceremony's id (its transcript file's name). */
  ceremony: string;
  /** sha256 of the ceremony's ceremony.seal line: the head the chain had when it closed. */
  head: string;
  keyId: string;
  epoch: number;
  /** sha256 of the message signed. */
  messageDigest: string;
  /** The custodian the receipt is for. */
  signer: string;
  /** Who signed the receipt: the ceremony's actor, by name and roster fingerprint. */
  by: string;
  keyid: string;
  /** Ed25519 signature (hex) over the canonical JSON of the rest. */
  sig: string;
}

export type ReceiptBody = Omit<SignReceipt, 'v' | 'kind' | 'by' | 'keyid' | 'sig'>;

export function makeReceipt(actor: Identity, body: ReceiptBody): SignReceipt {
  const rest = { v: 1 as const, kind: RECEIPT_KIND, ...body, by: actor.name, keyid: publicOf(actor).fingerprint };
  return { ...rest, sig: signObject(actor.signing, rest) };
}

/** The receipt file's bytes: canonical JSON, indented. */
export function receiptBytes(r: SignReceipt): string {
  return canonicalPretty(r);
}

const isDigest = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

/** Parses a receipt file's text; throws an Error whose message says why it is not one. */
export function parseReceipt(text: string): SignReceipt {
  let r: Partial<SignReceipt>;
  try {
    r = JSON.parse(text) as Partial<SignReceipt>;
  } catch {
    throw new Error('not valid JSON');
  }
  if (typeof r !== 'object' || r === null || r.v !== 1 || r.kind !== RECEIPT_KIND) throw new Error('not a keyrite signing receipt');
  const strings = ['ceremony', 'keyId', 'signer', 'by', 'keyid', 'sig'] as const;
  for (const f of strings) if (typeof r[f] !== 'string') throw new Error(`receipt field ${f} is missing or malformed`);
  if (!isDigest(r.head)) throw new Error('receipt field head is not a sha256 digest');
  if (!isDigest(r.messageDigest)) throw new Error('receipt field messageDigest is not a sha256 digest');
  if (!Number.isSafeInteger(r.epoch)) throw new Error('receipt field epoch is missing or malformed');
  return r as SignReceipt;
}

/** Whether `r` is signed by the Ed25519 key `signingKey` (hex). */
export function receiptSignedBy(r: SignReceipt, signingKey: string): boolean {
  const { sig, ...rest } = r;
  return verifyObject(signingKey, rest, sig);
}
