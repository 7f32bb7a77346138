import { sha256Hex } from '../base/canonical.js';
import { KeyriteError, shown } from '../base/errors.js';
import { signObject, verifyObject, type SigningKey } from '../base/ed25519.js';
import { sessionIdOf, type SessionParams, type Share } from '../engine/index.js';
import { assignmentOf, type KeyRecord } from '../state/key-record.js';
import { sealShare } from '../custody/sealed.js';

// The requests a custodian signs before handing their share to a node (docs/ARCHITECTURE.md §1
// step 4, §5). A signing request names key id, epoch, message digest, signer set (custodians) and
// session id; a renewal request (refresh, a reshare dealer, a repair helper) names the operation,
// key id, epoch and session id. A node uses a share only under a request signed by the custodian
// assigned to its party, and only when every field matches the session, the share, the key record
// (and the message) it is given.

export interface SignRequest {
  v: 1;
  keyId: string;
  epoch: number;
  messageDigest: string; // sha256 of the message, hex
  signers: string[]; // custodians, in party order
  sessionId: string;
}

/** The runs that renew or rebuild shares from handed-in shares: what a renewal request is for. */
export type RenewalOp = 'refresh' | 'reshare' | 'repair';

export interface RenewalRequest {
  v: 1;
  op: RenewalOp;
  keyId: string;
  epoch: number;
  sessionId: string;
}

export interface SignedRequest<R = SignRequest> {
  request: R;
  custodian: string;
  sig: string; // the custodian's Ed25519 signature over the canonical request
}

/**
 * A share on its way from a custodian's shard to a node: age ciphertext to the node, so it
 * crosses a transport (and, on separate machines, a network) only encrypted.
 */
export async function sealForNode(nodeRecipient: string, share: Share): Promise<string> {
  return Buffer.from(await sealShare(nodeRecipient, share)).toString('base64');
}

export function signRequest<R extends SignRequest | RenewalRequest>(custodian: string, key: SigningKey, request: R): SignedRequest<R> {
  return { request, custodian, sig: signObject(key, request) };
}

/** The nodes of `custodians` in the key's party order: a signing session's participants. */
export function signerNodes(r: KeyRecord, custodians: string[]): string[] {
  for (const c of custodians) assignmentOf(r, { custodian: c });
  return r.parties.filter((p) => custodians.includes(p.custodian)).map((p) => p.node);
}

export interface RequestContext {
  node: string;
  record: KeyRecord;
  custodianKey: (name: string) => string; // the roster's Ed25519 key of a custodian
  session: SessionParams;
  share: Share;
}

type Refuse = (why: string) => KeyriteError;

const refuser = (node: string, what: string): Refuse => (why) => new KeyriteError('REQUEST_REFUSED', `node ${node} refuses the ${what}: ${why}`, { node });

/** A signed request as it arrives from a caller: a request object, a custodian's name and a signature, before anything is read from them. */
function isSignedShape(s: unknown): s is SignedRequest<SignRequest | RenewalRequest> {
  const x = s as Partial<SignedRequest<unknown>> | null;
  return typeof x === 'object' && x !== null && typeof x.custodian === 'string' && typeof x.sig === 'string' && typeof x.request === 'object' && x.request !== null;
}

/**
 * What every request must be: signed by the custodian of the node's party, for this key, epoch,
 * session and share. Returns the node's assignment.
 */
function checkCommon(s: SignedRequest<SignRequest | RenewalRequest>, x: RequestContext, refuse: Refuse) {
  if (!isSignedShape(s)) throw refuse('it is malformed');
  const { request: q } = s;
  const mine = assignmentOf(x.record, { node: x.node });
  if (s.custodian !== mine.custodian) throw refuse(`it is signed by ${s.custodian}, but party ${mine.party} belongs to ${mine.custodian}`);
  if (!verifyObject(x.custodianKey(mine.custodian), q, s.sig)) throw refuse(`${mine.custodian}'s signature on it does not verify`);
  if (q?.v !== 1) throw refuse('it is malformed');
  if (q.keyId !== x.record.keyId || q.keyId !== x.session.keyId || q.keyId !== x.share.keyId) throw refuse(`it is for key ${shown(q.keyId)}`);
  if (q.epoch !== x.record.epoch || q.epoch !== x.session.epoch || q.epoch !== x.share.epoch) throw refuse(`it is for epoch ${shown(q.epoch)}; the key is at epoch ${x.record.epoch} and the share is from epoch ${x.share.epoch}`);
  if (q.sessionId !== sessionIdOf(x.session)) throw refuse('it is for a different session');
  if (x.share.party !== mine.party) throw refuse(`the share given is ${x.share.party}'s, not party ${mine.party}'s`);
  return mine;
}

/** A renewal request for `op`; throws REQUEST_REFUSED naming the first field that does not match. */
export function checkRenewal(s: SignedRequest<RenewalRequest>, op: RenewalOp, x: RequestContext): void {
  const refuse = refuser(x.node, `${op} request`);
  checkCommon(s, x, refuse);
  if (s.request.op !== op) throw refuse(`it is for a ${shown(s.request.op)}, not a ${op}`);
}

/** A signing request; throws REQUEST_REFUSED naming the first field that does not match. */
export function checkRequest(s: SignedRequest, x: RequestContext & { message: Uint8Array }): void {
  const refuse = refuser(x.node, 'signing request');
  if (!isSignedShape(s) || !Array.isArray(s.request.signers) || !s.request.signers.every((c) => typeof c === 'string')) throw refuse('it is malformed');
  const { request: q } = s;
  const mine = checkCommon(s, x, refuse);
  if (q.messageDigest !== sha256Hex(x.message)) throw refuse('it is for a different message');
  if (!q.signers.includes(mine.custodian)) throw refuse(`${mine.custodian} is not in its signer set`);
  const nodes = signerNodes(x.record, q.signers);
  if (nodes.join() !== x.session.participants.join() || q.signers.length !== nodes.length) throw refuse('its signer set is not the session\'s');
}
