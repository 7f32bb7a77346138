import { KeyriteError } from '../base/errors.js';
import { pgpWords } from '../base/pgpwords.js';
import { createFile } from '../fs/atomic.js';
import { readJson, type Workspace } from '../fs/workspace.js';
import { publicOf, type Identity } from '../custody/identity.js';
import { loadScript, type Approvals } from '../evidence/script.js';
import type { Ceremony, Sealed } from '../evidence/writer.js';
import { checkApproval, checkRequest, newRequest, requestDigest, signApproval, type Approval, type ApprovalRequest } from '../state/approval-request.js';
import type { CustodyState } from '../state/fold.js';
import { member } from '../state/roster.js';
import type { Operator } from './kernel/operator.js';
import { withSession, type IdentityPaths, type Session } from './kernel/session.js';

// Approvals (CEREMONY.md, "Approvals"; docs/ARCHITECTURE.md §6). A custodian approves one exact
// request (src/state/approval-request.ts), shown to them as its digest in hex and PGP words:
//  - `approve` at the ceremony laptop records, in order: ceremony.start, the checklist
//    confirmations, approval (signed by the approver, carrying their signed approval),
//    ceremony.seal;
//  - `approve --out FILE` on the approver's own device records nothing and writes the signed
//    approval, for the ceremony to take (`gatherApprovals` with `files`);
//  - `approve --approval FILE` records such files ahead of the act, one approval entry each,
//    signed by the generator who records them (the approver's own signature is inside).
// Every sensitive ceremony takes its approvals through `gatherApprovals` (before it opens:
// files and approvers in the room, checked by the fold's own rules, so it refuses early) and
// `recordApprovals` (inside it); the act then names the gathered digest as params.request.

/** How long a request made in the room stays valid: the ceremony it is made for. */
export const IN_ROOM_TTL_MS = 60 * 60 * 1000;

/** An approval to record, and who signs its entry when they are in the room. */
export interface GatheredApproval {
  approval: Approval;
  by?: Identity;
}

export interface Gathered {
  request: ApprovalRequest;
  digest: string;
  approvals: GatheredApproval[];
}

/** The act a request is for: its target, and the parameters the act will carry. */
export interface ActInput {
  target: string;
  parameters: Record<string, unknown>;
}

/** Where an act's approvals come from: a request file approved elsewhere, approval files, approvers in the room. */
export interface ApprovalSources {
  request?: ApprovalRequest;
  files?: string[];
  inRoom?: Identity[];
}

export function readRequest(path: string): ApprovalRequest {
  return checkRequest(readJson(path, 'the approval request'), `the approval request ${path}`);
}

export function readApprovalFile(path: string): Approval {
  return checkApproval(readJson(path, 'the approval file'), `the approval file ${path}`);
}

const ctxOf = (state: CustodyState) => ({ roster: state.requireRoster(), holdsLine: (d: string) => state.holdsLine(d) });

/**
 * Tries `approvals` on a copy of the fold's ledger, by the fold's own rules, as if recorded now;
 * and, when `act` is given, the act that consumes them. Throws what the writer would.
 */
function tryOnLedger(state: CustodyState, approvals: Approval[], act?: { step: string; ceremony: string; operation: string; digest: string; params: Record<string, unknown>; needed: number }): void {
  const ledger = state.approvals.copy();
  const now = new Date().toISOString();
  for (const a of approvals) ledger.admit(ctxOf(state), a, now)();
  if (act) ledger.take(ctxOf(state), { step: act.step, ceremony: act.ceremony, operation: act.operation, request: act.digest, params: act.params, time: now, needed: act.needed });
}

function approvalRule(script: string): Approvals {
  const rule = loadScript(script).approvals;
  if (!rule) throw new KeyriteError('INTERNAL', `ceremony script ${script} asks for no approvals`);
  return rule;
}

/** The request for `act` of `script`, made now at the transcript's head, valid for `ttlMs`. */
function requestFor(s: Session, script: string, act: ActInput, ttlMs: number): ApprovalRequest {
  return newRequest({ operation: approvalRule(script).operation, target: act.target, parameters: act.parameters, head: s.state.head ?? '' }, new Date(), ttlMs);
}

export interface WrittenRequest {
  file: string;
  request: ApprovalRequest;
  digest: string;
  words: string;
}

/**
 * Writes the request for `act` of `script` to `out`, for the approvers to sign on their own
 * devices (`keyrite approve --request FILE --out …`), and records nothing: any sensitive
 * command's `--request-out`. The approvals then come back as `--approval FILE`.
 */
export function writeRequest(s: Session, script: string, act: ActInput, o: { out: string; ttlMs: number }): WrittenRequest {
  if (!(o.ttlMs > 0)) throw new KeyriteError('USAGE', `a request must expire after it is made; its lifetime was ${o.ttlMs} ms`);
  const request = requestFor(s, script, act, o.ttlMs);
  createFile(o.out, JSON.stringify(request, null, 2) + '\n', 0o644);
  const digest = requestDigest(request);
  return { file: o.out, request, digest, words: pgpWords(digest) };
}

/**
 * The approvals a sensitive act of `script` takes, checked before its ceremony opens: each file's
 * approval, and each approver in the room signing the request now. Without a request given, the
 * request is the one the approval files carry, or else one made here, at the current head, for
 * the ceremony about to run.
 */
export function gatherApprovals(s: Session, script: string, act: ActInput, from: ApprovalSources): Gathered {
  const rule = approvalRule(script);
  const approvals: GatheredApproval[] = (from.files ?? []).map((f) => ({ approval: readApprovalFile(f) }));
  // Approval files carry the request they approve; the act's own checks (tryOnLedger) say whether it is this act's.
  const request = from.request ?? approvals[0]?.approval.request ?? requestFor(s, script, act, IN_ROOM_TTL_MS);
  const digest = requestDigest(request);
  for (const id of from.inRoom ?? []) approvals.push({ approval: signApproval(request, publicOf(id), id.signing, new Date()), by: id });
  for (const { approval } of approvals) {
    if (approval.digest !== digest) {
      throw new KeyriteError('WRONG_REQUEST', `${approval.approver}'s approval is for request ${approval.digest.slice(0, 16)}… (${approval.request.operation} of ${approval.request.target}), not this act's ${digest.slice(0, 16)}…`);
    }
  }
  const needed = rule.count === 'policy' ? s.roster.policy.approvals : rule.count;
  tryOnLedger(s.state, approvals.map((g) => g.approval), { step: rule.before, ceremony: `the ${script} ceremony`, operation: rule.operation, digest, params: { target: act.target, ...act.parameters }, needed });
  return { request, digest, approvals };
}

/** What a sensitive command is given to approve its act: approval files, approvers in the room. */
export interface ApprovalInput {
  /** Approvals made on the approvers' own devices (`approve --out`), of one request. */
  approvals: string[];
  /** Custodians approving in the room, signing a request made now. */
  approvers: string[];
  identities?: IdentityPaths;
}

/**
 * The approvals of `act` under `script`, by the policy's quorum: too few named is refused before
 * anyone types a passphrase; files alone are checked in full (gatherApprovals) before any
 * passphrase; then each approver in the room unlocks and signs the request. `what` names the act
 * in the refusal ("retiring key K").
 */
export async function takeApprovals(s: Session, script: string, act: ActInput, given: ApprovalInput, what: string): Promise<Gathered> {
  const needed = s.roster.policy.approvals;
  const named = given.approvals.length + given.approvers.length;
  if (named < needed) throw new KeyriteError('QUORUM_NOT_MET', `${named} approval(s) given; ${what} needs ${needed} custodians' approvals, from files or in the room`);
  const request = given.approvals.length ? readApprovalFile(given.approvals[0]!).request : undefined;
  if (!given.approvers.length) return gatherApprovals(s, script, act, { request, files: given.approvals });
  const inRoom: Identity[] = [];
  for (const a of given.approvers) inRoom.push(await s.unlock(a, 'custodian', given.identities));
  return gatherApprovals(s, script, act, { request, files: given.approvals, inRoom });
}

/** Records each gathered approval in the open ceremony: an approver in the room signs their entry, the ceremony's actor records a file's. */
export async function recordApprovals(s: Session, c: Ceremony, approvals: GatheredApproval[]): Promise<void> {
  for (const { approval, by } of approvals) await s.step(c, { step: 'approval', actor: by ?? c.actor, params: { approval } });
}

export interface ApproveInput {
  ws: Workspace;
  operator: Operator;
  /** The request file to approve. */
  request: string;
  approver: string;
  identities: IdentityPaths;
  /** Write the signed approval here instead of recording it. */
  out?: string;
}

export interface ApproveResult {
  digest: string;
  words: string;
  approver: string;
  operation: string;
  target: string;
  expires: string;
  file?: string;
  ceremony?: string;
  sealed?: Sealed;
}

/** What the approver is shown and confirms: the request in words, and its digest in hex and PGP words. */
export function requestSummary(r: ApprovalRequest): string {
  const digest = requestDigest(r);
  return `${r.operation} of ${r.target} with ${JSON.stringify(r.parameters)}, expiring ${r.expires}: request ${digest} (${pgpWords(digest)})`;
}

/** `keyrite approve --request FILE`: one custodian approves one request, recorded here or written to `out`. */
export function approve(i: ApproveInput): Promise<ApproveResult> {
  const request = readRequest(i.request);
  const digest = requestDigest(request);
  return withSession({ ws: i.ws, operator: i.operator, label: `approve ${request.operation} of ${request.target}` }, async (s) => {
    const approver = member(s.roster, i.approver, 'custodian');
    // Every rule the fold applies, before anyone types a passphrase; the signature is checked when recorded.
    s.state.approvals.check(ctxOf(s.state), { request, digest, approver: approver.name, keyid: approver.fingerprint }, new Date().toISOString());
    await s.confirm(`${approver.name} approves ${requestSummary(request)}`);
    const id = await s.unlock(approver.name, 'custodian', i.identities);
    const approval = signApproval(request, publicOf(id), id.signing, new Date());
    const shown = { digest, words: pgpWords(digest), approver: approver.name, operation: request.operation, target: request.target, expires: request.expires };
    if (i.out) {
      createFile(i.out, JSON.stringify(approval, null, 2) + '\n', 0o644);
      return { ...shown, file: i.out };
    }
    const done = await s.run({ script: 'approve', actor: id, params: { request: digest } }, async (c) => {
      await recordApprovals(s, c, [{ approval, by: id }]);
      return {};
    });
    return { ...shown, ceremony: done.ceremony, sealed: done.sealed };
  });
}

export interface RecordFilesResult {
  approvals: { approver: string; digest: string; words: string }[];
  ceremony: string;
  sealed: Sealed;
}

/** `keyrite approve --approval FILE…`: approvals made on the approvers' own devices, recorded by the generator ahead of the act. */
export function recordApprovalFiles(i: { ws: Workspace; operator: Operator; files: string[]; identities: IdentityPaths }): Promise<RecordFilesResult> {
  const approvals = i.files.map((f) => ({ approval: readApprovalFile(f) }));
  return withSession({ ws: i.ws, operator: i.operator, label: 'approve (record approval files)' }, async (s) => {
    tryOnLedger(s.state, approvals.map((g) => g.approval));
    for (const { approval } of approvals) await s.confirm(`record ${approval.approver}'s approval of ${requestSummary(approval.request)}`);
    const generator = await s.unlockSole('generator', { identities: i.identities });
    const done = await s.run({ script: 'approve', actor: generator }, async (c) => {
      await recordApprovals(s, c, approvals);
      return {};
    });
    const listed = approvals.map(({ approval: a }) => ({ approver: a.approver, digest: a.digest, words: pgpWords(a.digest) }));
    return { approvals: listed, ceremony: done.ceremony, sealed: done.sealed };
  });
}
