import type { Command } from 'commander';
import type { ApprovalInput, WrittenRequest } from '../ceremony/approve.js';
import { digestLines } from './format/common.js';
import { cliUsage } from './hints.js';
import { collectList, collectRepeated, parseDuration } from './inputs.js';
import type { Result } from './output.js';

// The options every sensitive command takes for its approvals (CEREMONY.md, "Approvals"):
// approval files made on the approvers' own devices, approvers in the room, or — instead of the
// act — the request written for those devices. One definition, so each command says the same.

const DEFAULT_EXPIRY = '24h';

export interface ApprovalOptions {
  approval?: string[];
  approvers?: string[];
  requestOut?: string;
  expires?: number; // milliseconds
}

/** Adds --approval, --approvers, --request-out and --expires to `cmd`. */
export function approvalOptions(cmd: Command): Command {
  return cmd
    .option('--approval <file>', 'an approval made with `approve --out` (repeatable)', collectRepeated)
    .option('--approvers <a,b>', 'custodians approving in the room', collectList)
    .option('--request-out <file>', 'write the approval request here for the approvers\' own devices, and record nothing')
    .option('--expires <duration>', `with --request-out: how long the request stays valid (30m, 24h, 7d; default ${DEFAULT_EXPIRY})`, parseDuration);
}

/**
 * With --request-out: the request's lifetime (the caller writes the request and records
 * nothing); otherwise null, and the act takes `quorumOf(o)`. Mixing the two is a usage error.
 */
export function requestLifetime(o: ApprovalOptions, command: string): number | null {
  if (o.requestOut) {
    if (o.approval || o.approvers) throw cliUsage(`--request-out writes the request only; the approvals come with a later ${command}`);
    return o.expires ?? parseDuration(DEFAULT_EXPIRY);
  }
  if (o.expires !== undefined) throw cliUsage('--expires goes with --request-out');
  return null;
}

export function quorumOf(o: ApprovalOptions): Pick<ApprovalInput, 'approvals' | 'approvers'> {
  return { approvals: o.approval ?? [], approvers: o.approvers ?? [] };
}

/** The written request, and what the approvers and the operator do next (`then`: the act with its approval files). */
export function requestedResult(w: WrittenRequest, what: string, then: string, data: Record<string, unknown> = {}): Result {
  return {
    data: { ...data, file: w.file, digest: w.digest, words: w.words, expires: w.request.expires, head: w.request.head },
    lines: [
      `The request to ${what} is in ${w.file} (expires ${w.request.expires}); nothing was recorded.`,
      ...digestLines('  request', w.digest),
      'Each approver, on their own device: keyrite approve --request FILE --approver NAME --out NAME.approval.json',
      `Then: ${then} --approval A.approval.json --approval B.approval.json`,
    ],
  };
}
