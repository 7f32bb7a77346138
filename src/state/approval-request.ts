import { digestOf } from '../base/canonical.js';
import { type SigningKey, signObject, verifyObject } from '../base/ed25519.js';
import { KeyriteError, shown } from '../base/errors.js';
import { isIsoTime } from '../base/time.js';
import type { PublicIdentity } from './identity.js';

// What an approver signs (docs/ARCHITECTURE.md §6, "Approvals"; CEREMONY.md, "Approvals"): the
// request for one exact act — operation, target, parameters, the transcript head it was made
// at, an expiry — named by its digest, the sha256 of its RFC 8785 canonical JSON. An approval
// is that digest signed by one custodian; the fold counts it only for the act that names the
// same digest (src/state/approvals.ts), so an approval cannot be moved to another act, another
// history or a later time.

export const REQUEST_KIND = 'keyrite/approval-request';
export const APPROVAL_KIND = 'keyrite/approval';

/** The request for one sensitive act, written before anyone approves it. */
export interface ApprovalRequest {
  v: 1;
  kind: typeof REQUEST_KIND;
  /** The operation, as the act's ceremony script names it (its `approvals.operation`). */
  operation: string;
  /** The key id or roster name the act is about; its holder never approves it. */
  target: string;
  /** What the act will do; each one must equal the act's own parameter of that name. */
  parameters: Record<string, unknown>;
  /** Digest of the transcript's last line when the request was made: it must be a line of the history that counts it. */
  head: string;
  /** ISO 8601 instant after which the approval no longer counts (the act's entry time must not be later). */
  expires: string;
}

/** One custodian's signature over a request's digest: an `approval` entry carries it whole. */
export interface Approval {
  v: 1;
  kind: typeof APPROVAL_KIND;
  request: ApprovalRequest;
  /** requestDigest(request): what was shown to the approver in hex and PGP words. */
  digest: string;
  approver: string;
  /** The approver's roster fingerprint when they signed. */
  keyid: string;
  time: string;
  /** Ed25519 (hex) by the approver's signing key over the canonical JSON of every other field. */
  sig: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDigest = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const REQUEST_FIELDS = ['v', 'kind', 'operation', 'target', 'parameters', 'head', 'expires'];
const APPROVAL_FIELDS = ['v', 'kind', 'request', 'digest', 'approver', 'keyid', 'time', 'sig'];

function exactFields(x: Record<string, unknown>, fields: string[], what: string): void {
  const extra = Object.keys(x).filter((k) => !fields.includes(k));
  const missing = fields.filter((k) => !(k in x));
  if (extra.length || missing.length) {
    throw new KeyriteError('DAMAGED_FILE', `${what} ${missing.length ? `lacks ${missing.join(', ')}` : `has unknown fields ${extra.join(', ')}`}`);
  }
}

/** The request `x` is, or DAMAGED_FILE saying which field is wrong. */
export function checkRequest(x: unknown, what: string): ApprovalRequest {
  if (!isObject(x)) throw new KeyriteError('DAMAGED_FILE', `${what} is not an approval request`);
  exactFields(x, REQUEST_FIELDS, what);
  const bad = (field: string) => new KeyriteError('DAMAGED_FILE', `${what}: ${field} is missing or malformed`);
  if (x.v !== 1 || x.kind !== REQUEST_KIND) throw bad('kind (keyrite/approval-request, v 1)');
  if (typeof x.operation !== 'string' || !x.operation) throw bad('operation');
  if (typeof x.target !== 'string' || !x.target) throw bad('target');
  if (!isObject(x.parameters)) throw bad('parameters');
  if (!isDigest(x.head)) throw bad('head (a line digest)');
  if (!isIsoTime(x.expires)) throw bad('expires (ISO 8601)');
  return x as unknown as ApprovalRequest;
}

export function requestDigest(r: ApprovalRequest): string {
  return digestOf(r);
}

/** A request made now at `head`, valid for `ttlMs`. */
export function newRequest(o: { operation: string; target: string; parameters: Record<string, unknown>; head: string }, now: Date, ttlMs: number): ApprovalRequest {
  return { v: 1, kind: REQUEST_KIND, ...o, expires: new Date(now.getTime() + ttlMs).toISOString() };
}

/** `approver` signs the digest of `request` with `key` (their identity's signing key). */
export function signApproval(request: ApprovalRequest, approver: PublicIdentity, key: SigningKey, now: Date): Approval {
  const body: Omit<Approval, 'sig'> = { v: 1, kind: APPROVAL_KIND, request, digest: requestDigest(request), approver: approver.name, keyid: approver.fingerprint, time: now.toISOString() };
  return { ...body, sig: signObject(key, body) };
}

/**
 * The approval `x` is: well formed, and naming the digest of the request it carries (a request
 * swapped under an approval fails here). Whose signature it is is the fold's to check, against
 * the roster in force.
 */
export function checkApproval(x: unknown, what: string): Approval {
  if (!isObject(x)) throw new KeyriteError('DAMAGED_FILE', `${what} is not an approval`);
  exactFields(x, APPROVAL_FIELDS, what);
  const bad = (field: string) => new KeyriteError('DAMAGED_FILE', `${what}: ${field} is missing or malformed`);
  if (x.v !== 1 || x.kind !== APPROVAL_KIND) throw bad('kind (keyrite/approval, v 1)');
  const request = checkRequest(x.request, `the request in ${what}`);
  if (typeof x.approver !== 'string' || typeof x.keyid !== 'string' || typeof x.sig !== 'string') throw bad('approver, keyid or sig');
  if (!isIsoTime(x.time)) throw bad('time (ISO 8601)');
  const digest = requestDigest(request);
  if (x.digest !== digest) {
    throw new KeyriteError('WRONG_REQUEST', `${what} by ${x.approver} names request ${shown(x.digest).slice(0, 16)}…, but the request it carries is ${digest.slice(0, 16)}…: it was altered`);
  }
  return x as unknown as Approval;
}

/** Whether `a` is signed by the Ed25519 key `signingKey` (hex). */
export function approvalSignedBy(a: Approval, signingKey: string): boolean {
  const { sig, ...body } = a;
  return verifyObject(signingKey, body, sig);
}
