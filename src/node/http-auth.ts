import { randomBytes } from 'node:crypto';
import { KeyriteError, type ErrorCode } from '../base/errors.js';
import type { Identity } from '../custody/identity.js';
import { signObject, verifyObject } from '../base/ed25519.js';
import { findMember, type Roster } from '../state/roster.js';
import { NAME } from '../state/identity.js';

// Who may drive a node over HTTP: every request is signed by the key generator or a custodian
// of the roster, names the node it is for, and carries a fresh nonce and the time. A request
// not signed by such a person, for a call that person may not make, meant for another node,
// outside the time window, or seen before, is refused before it reaches the node.

export interface NodeRequest {
  v: 1;
  node: string;
  method: string;
  params: unknown;
  from: string;
  nonce: string;
  time: number; // ms since the epoch
}

export type SignedNodeRequest = NodeRequest & { sig: string };

export const WINDOW_MS = 2 * 60_000;
/**
 * The calls each role may make. The generator coordinates every ceremony; a custodian may take
 * part in a signing run and ask what the node holds, but never create, renew, keep, export or
 * delete a share.
 */
const SIGNING_CALLS = ['holdings', 'start sign', 'receive', 'abort', 'attest'];
const CALLERS: Record<string, readonly string[]> = {
  generator: [...SIGNING_CALLS, 'start dkg', 'start refresh', 'start reshare', 'start repair', 'keep', 'exportShard', 'deleteShare'],
  custodian: SIGNING_CALLS,
};

/** The call a request makes, as CALLERS names it: a protocol run is named with its kind. */
function callOf(q: NodeRequest): string {
  const kind = (q.params as { kind?: unknown } | null)?.kind;
  return q.method === 'start' ? `start ${String(kind)}` : q.method;
}

export function signNodeRequest(caller: Identity, node: string, method: string, params: unknown): SignedNodeRequest {
  const body: NodeRequest = { v: 1, node, method, params, from: caller.name, nonce: randomBytes(16).toString('hex'), time: Date.now() };
  return { ...body, sig: signObject(caller.signing, body) };
}

/** Remembers nonces for the time window, so a request is accepted at most once. */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly node: string) {}

  check(value: unknown, roster: Roster, now = Date.now()): NodeRequest {
    const refuse = (code: ErrorCode, why: string) => new KeyriteError(code, `node ${this.node} refuses the request: ${why}`);
    const q = value as Partial<SignedNodeRequest> | null;
    // Everything but the signature is checked first, and cheaply: the signature check
    // canonicalizes the whole request, which nobody gets for free.
    if (typeof q !== 'object' || q === null || q.v !== 1 || typeof q.method !== 'string' || !/^[A-Za-z]{1,32}$/.test(q.method) ||
      typeof q.from !== 'string' || !NAME.test(q.from) || typeof q.node !== 'string' || typeof q.nonce !== 'string' || !/^[0-9a-f]{32}$/.test(q.nonce) ||
      typeof q.time !== 'number' || !Number.isSafeInteger(q.time) || typeof q.sig !== 'string' || !/^[0-9a-f]{128}$/.test(q.sig)) {
      throw refuse('BAD_REQUEST', 'it is malformed');
    }
    const { sig, ...body } = q as SignedNodeRequest;
    if (body.node !== this.node) throw refuse('WRONG_NODE', `it is for node ${body.node.slice(0, 64)}`);
    if (Math.abs(now - body.time) > WINDOW_MS) throw refuse('STALE_REQUEST', 'its time is outside the two-minute window');
    for (const [n, t] of this.seen) if (now - t > 2 * WINDOW_MS) this.seen.delete(n);
    if (this.seen.has(body.nonce)) throw refuse('REPLAYED_REQUEST', 'it was seen before (a replay)');
    const caller = findMember(roster, body.from);
    const calls = caller ? CALLERS[caller.role] : undefined;
    if (!caller || !calls) throw refuse('NOT_PERMITTED', `${body.from} is not a key generator or custodian in the roster`);
    if (!verifyObject(caller.signingKey, body, sig)) throw refuse('BAD_SIGNATURE', `its signature is not ${body.from}'s`);
    if (!calls.includes(callOf(body))) throw refuse('NOT_PERMITTED', `${body.from} is a ${caller.role}, who may call ${calls.join(', ')} only, not ${callOf(body)}`);
    this.seen.set(body.nonce, now);
    return body;
  }
}
