import { canonical, digestOf, fromHex, hex } from '../base/canonical.js';
import { decryptWith, encryptTo } from '../base/age.js';
import { signObject, verifyObject, type SigningKey } from '../base/ed25519.js';
import { blame, malformed } from './blame.js';

// Protocol envelopes (docs/ARCHITECTURE.md §5). Every message is signed by its sender over the canonical
// envelope without `sig`. Point-to-point payloads are signed first (inner signature over
// session, round, sender, recipient and body), then age-encrypted to the recipient, so after
// decryption the recipient holds the sender's signed statement of what it sent.
//
// Beyond §5's field list the envelope carries `epoch`, so a message for another epoch is named
// as such rather than only as a different session (the epoch is in the session id as well).

export type SessionParams = {
  engine: string;
  /** Key id, or "new" for DKG. */
  keyId: string;
  /** Epoch of the key state the run starts from: 0 for DKG, the shares' epoch otherwise. */
  epoch: number;
  /** Holders taking part; for reshare the new holders; for repair the one holder whose share is rebuilt. */
  participants: string[];
  /** Threshold and holder count of the key used or produced (reshare: the new ones). */
  t: number;
  n: number;
  ceremonyId: string;
  rosterDigest: string;
  /** Reshare: the old holders who deal; repair: the helpers. */
  dealers?: string[];
};

export function sessionIdOf(p: SessionParams): string {
  const { engine, keyId, epoch, participants, t, n, ceremonyId, rosterDigest, dealers } = p;
  return digestOf({ engine, keyId, epoch, participants, t, n, ceremonyId, rosterDigest, ...(dealers ? { dealers } : {}) });
}

/** Everyone who sends or receives in the session. */
export function membersOf(p: SessionParams): string[] {
  return [...new Set([...(p.dealers ?? []), ...p.participants])];
}

export const BROADCAST = '*';

export type Envelope = {
  v: 1;
  sessionId: string;
  epoch: number;
  round: string;
  from: string;
  /** Recipient name, or "*" for a broadcast. */
  to: string;
  payload: unknown;
  sig: string;
};

export type UnsignedEnvelope = Omit<Envelope, 'sig'>;

export function signEnvelope(key: SigningKey, e: UnsignedEnvelope): Envelope {
  return { ...e, sig: signObject(key, e) };
}

export function envelopeSignatureValid(publicKey: string, env: Envelope): boolean {
  const { sig, ...unsigned } = env;
  return verifyObject(publicKey, unsigned, sig);
}

export const envelopeDigest = (env: Envelope): string => digestOf(env);

/** Shape check of an untrusted envelope; blames the claimed sender when it can read one. */
export function checkShape(value: unknown): Envelope {
  const e = value as Partial<Envelope> | null;
  // An empty sender names nobody: blame would name no party, so it is malformed like a missing one.
  const from = typeof e?.from === 'string' && e.from !== '' ? e.from : 'unknown sender';
  const ok =
    typeof e === 'object' && e !== null && e.v === 1 && typeof e.sessionId === 'string' && Number.isSafeInteger(e.epoch) &&
    typeof e.round === 'string' && from === e.from && typeof e.to === 'string' && typeof e.sig === 'string' && 'payload' in e;
  if (!ok) throw malformed(from, 'envelope');
  return e as Envelope;
}

/** The signed statement inside a sealed point-to-point payload. */
export type DirectStatement = Omit<UnsignedEnvelope, 'v' | 'payload'> & { body: unknown; sig: string };
export type Sealed = { sealed: string };

export async function sealDirect(key: SigningKey, header: Omit<UnsignedEnvelope, 'v' | 'payload'>, body: unknown, recipient: string): Promise<Sealed> {
  const statement = { ...header, body };
  const signed: DirectStatement = { ...statement, sig: signObject(key, statement) };
  return { sealed: hex(await encryptTo([recipient], Buffer.from(canonical(signed), 'utf8'))) };
}

/** Whether a point-to-point statement is signed by `publicKey` (its sender's, by the caller's roster). */
export function statementSignatureValid(publicKey: string, signed: DirectStatement): boolean {
  const { sig, ...statement } = signed ?? ({} as DirectStatement);
  return typeof sig === 'string' && verifyObject(publicKey, statement, sig);
}

/** Decrypts and checks a sealed payload against its (already verified) envelope. */
export async function openDirect(ageIdentity: string, env: Envelope, senderPublicKey: string): Promise<DirectStatement> {
  const sealed = (env.payload as Partial<Sealed> | null)?.sealed;
  if (typeof sealed !== 'string') throw malformed(env.from, 'sealed payload');
  let signed: DirectStatement;
  try {
    signed = JSON.parse(Buffer.from(await decryptWith(ageIdentity, fromHex(sealed, 'sealed payload'), `${env.round} message from ${env.from}`)).toString('utf8'));
  } catch {
    throw malformed(env.from, 'sealed payload (cannot be decrypted)');
  }
  if (!statementSignatureValid(senderPublicKey, signed)) {
    throw blame('PROTOCOL_BAD_SIGNATURE', env.from, `inner signature of the sealed ${env.round} message from ${env.from} does not verify`);
  }
  const header = ['sessionId', 'epoch', 'round', 'from', 'to'] as const;
  if (header.some((k) => signed[k] !== env[k])) {
    throw blame('PROTOCOL_WRONG_SESSION', env.from, `sealed ${env.round} message from ${env.from} was signed for another session, round or recipient`);
  }
  return signed;
}
