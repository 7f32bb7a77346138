import { canonical } from '../base/canonical.js';
import { KeyriteError, shown } from '../base/errors.js';
import { approvalSignedBy, requestDigest, type Approval, type ApprovalRequest } from './approval-request.js';
import { byFingerprint, type Roster, type RosterChange } from './roster.js';

// Approvals waiting for the act they approve (docs/ARCHITECTURE.md §6, "Approvals"), folded from
// `approval` entries, each carrying one custodian's signature over a request's digest
// (approval-request.ts). The rules, applied by the fold for the writer and the verifier alike:
//  (a) an approval counts only for the act that names its request's digest, of the request's
//      operation and target, with the request's parameters;
//  (b) the request's head must be a line of this history;
//  (c) neither the approval nor the act may be recorded after the request's expiry;
//  (d) the approver must be a custodian, with the key they signed with, in the roster in force
//      when the approval is recorded and again at the act (a member removed or re-keyed since
//      does not count);
//  (e) never the target, nor anyone the request's roster change replaces or removes;
//  (f) each once: a second approval by the same person, or any approval of a request an act has
//      already consumed, is refused.
// A ceremony asks the same questions before it opens (src/ceremony/approve.ts), so it refuses
// early with the code the writer would.

/** What the ledger needs of the custody state. */
export interface ApprovalContext {
  roster: Roster;
  holdsLine(digest: string): boolean;
}

/** A sensitive act, as its ceremony script and entry describe it. */
export interface ApprovalAct {
  /** The act's step, and its ceremony, to name it. */
  step: string;
  ceremony: string;
  operation: string;
  /** The digest the act names (its params.request). */
  request: string | undefined;
  params: Record<string, unknown>;
  /** The act's entry time (ISO 8601). */
  time: string;
  needed: number;
}

interface Pending {
  request: ApprovalRequest;
  approvers: Map<string, string>; // name → fingerprint they signed with
}

const after = (time: string, limit: string): boolean => Date.parse(time) > Date.parse(limit);

/** Who may never approve `r`: its target, and whoever its roster change replaces or removes. */
export function excludedBy(r: ApprovalRequest): Set<string> {
  const change = r.parameters.change as RosterChange | undefined;
  const named = change && (change.op === 'rekey' || change.op === 'remove') ? [change.name] : [];
  return new Set([r.target, ...named]);
}

/** Why `name` (who signed as `keyid`) does not count for `r` under `roster`, or null when they do. */
export function notCounted(roster: Roster, r: ApprovalRequest, name: string, keyid: string): string | null {
  if (excludedBy(r).has(name)) return `${name} is the target of ${r.operation} or replaced or removed by it, and never approves it`;
  const m = byFingerprint(roster, keyid);
  if (m?.name !== name || m.role !== 'custodian') return `${name}'s approval key is not a custodian's in roster version ${roster.version} (removed or re-keyed since)`;
  return null;
}

/** The names among `approvers` that count for `r` under `roster`, and why each other one does not. */
export function countable(roster: Roster, r: ApprovalRequest, approvers: Map<string, string>): { counted: string[]; refused: string[] } {
  const counted: string[] = [];
  const refused: string[] = [];
  for (const [name, keyid] of approvers) {
    const why = notCounted(roster, r, name, keyid);
    if (why) refused.push(why);
    else counted.push(name);
  }
  return { counted, refused };
}

export class ApprovalLedger {
  private readonly pending = new Map<string, Pending>();
  private readonly consumed = new Set<string>();

  /** A copy to try entries on without changing this one: a ceremony's early check runs the fold's own rules on it. */
  copy(): ApprovalLedger {
    const c = new ApprovalLedger();
    for (const [d, p] of this.pending) c.pending.set(d, { request: p.request, approvers: new Map(p.approvers) });
    for (const d of this.consumed) c.consumed.add(d);
    return c;
  }

  /**
   * Every rule but the signature, for `approver` (signing as `keyid`) approving request `digest`
   * at `time`: what a ceremony can check before the approver unlocks their key.
   */
  check(ctx: ApprovalContext, a: Omit<Approval, 'v' | 'kind' | 'time' | 'sig'>, time: string): void {
    const r = a.request;
    const what = `${a.approver}'s approval of ${r.operation} of ${r.target} (request ${a.digest.slice(0, 16)}…)`;
    const why = notCounted(ctx.roster, r, a.approver, a.keyid);
    if (why) throw new KeyriteError('NOT_PERMITTED', `${what}: ${why}`);
    if (!ctx.holdsLine(r.head)) throw new KeyriteError('WRONG_REQUEST', `${what} was made at head ${r.head.slice(0, 16)}…, which is not a line of this history`);
    if (after(time, r.expires)) throw new KeyriteError('APPROVAL_EXPIRED', `${what} comes at ${time}, after the request expired at ${r.expires}`);
    if (this.consumed.has(a.digest)) throw new KeyriteError('APPROVAL_USED', `${what}: that request was already consumed by its act`);
    if (this.pending.get(a.digest)?.approvers.has(a.approver)) throw new KeyriteError('APPROVAL_USED', `${what}: ${a.approver} has already approved it`);
  }

  /** Checks an approval recorded at `time`; returns the change, to be committed once it is durable. */
  admit(ctx: ApprovalContext, a: Approval, time: string): () => void {
    this.check(ctx, a, time);
    if (!approvalSignedBy(a, byFingerprint(ctx.roster, a.keyid)!.signingKey)) {
      throw new KeyriteError('BAD_SIGNATURE', `${a.approver}'s approval of request ${a.digest.slice(0, 16)}… is not signed by ${a.approver}'s key in the roster`);
    }
    return () => {
      const p = this.pending.get(a.digest) ?? { request: a.request, approvers: new Map() };
      p.approvers.set(a.approver, a.keyid);
      this.pending.set(a.digest, p);
    };
  }

  /**
   * Checks that `act` is backed by its request's quorum; returns the change that consumes the
   * request, to be committed once the act is durable.
   */
  take(ctx: ApprovalContext, act: ApprovalAct): () => void {
    const d = act.request;
    const needs = `${act.step} in ${act.ceremony} needs ${act.needed} approvals for ${act.operation}`;
    if (!d) throw new KeyriteError('WRONG_REQUEST', `${needs}, and names no approval request (params.request)`);
    if (this.consumed.has(d)) throw new KeyriteError('APPROVAL_USED', `request ${d.slice(0, 16)}… was already consumed by an earlier act`);
    const p = this.pending.get(d);
    if (!p) throw new KeyriteError('QUORUM_NOT_MET', `${needs} under request ${d.slice(0, 16)}…; found 0`);
    checkAct(p.request, act);
    const { counted, refused } = countable(ctx.roster, p.request, p.approvers);
    if (counted.length < act.needed) {
      const list = counted.length ? ` (${counted.join(', ')})` : '';
      throw new KeyriteError('QUORUM_NOT_MET', `${needs} of ${p.request.target}; found ${counted.length}${list}${refused.length ? `; ${refused.join('; ')}` : ''}`);
    }
    return () => {
      this.pending.delete(d);
      this.consumed.add(d);
    };
  }
}

/** The act is the one requested: operation, target, each requested parameter, and in time. */
function checkAct(r: ApprovalRequest, act: ApprovalAct): void {
  const wrong = (why: string) => new KeyriteError('WRONG_REQUEST', `the approved request ${requestDigest(r).slice(0, 16)}… ${why}`);
  if (r.operation !== act.operation) throw wrong(`is for ${r.operation}, not ${act.operation}`);
  if (act.params.target !== r.target) throw wrong(`is for target ${r.target}, not ${shown(act.params.target)}`);
  // The fold acts on the key an entry names (params.keyId), so that key must be the target approved.
  if (act.params.keyId !== undefined && act.params.keyId !== r.target) throw wrong(`is for target ${r.target}, but the act is on key ${shown(act.params.keyId)}`);
  for (const [k, v] of Object.entries(r.parameters)) {
    if (act.params[k] === undefined || canonical(act.params[k]) !== canonical(v)) throw wrong(`sets ${k} to ${canonical(v)}, but the act has ${shown(act.params[k])}`);
  }
  if (after(act.time, r.expires)) throw new KeyriteError('APPROVAL_EXPIRED', `the act at ${act.time} comes after request ${requestDigest(r).slice(0, 16)}… expired at ${r.expires}`);
}
