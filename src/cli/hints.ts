import type { Command, Option } from 'commander';
import { KeyriteError, type ErrorCode } from '../base/errors.js';

// Which flag or command to try next, by error code. The layers below say what is wrong and
// never name a flag or a command (docs/ARCHITECTURE.md §4): only the CLI knows them, so only the
// CLI hints at them.
// The hint follows the message (output.ts says how it is printed); the code and the message
// stay the lower layer's, so scripts that match on them are unaffected.

/** An error the CLI raises itself: its message already names the flag, so it takes no hint. */
export class CliError extends KeyriteError {}

/** A malformed or missing input, in the CLI's own words (exit 2). */
export function cliUsage(message: string, code: 'USAGE' | 'MISSING_INPUT' | 'NOT_CONFIRMED' = 'USAGE'): CliError {
  return new CliError(code, message);
}

/** The command that failed, as far as a hint needs it. */
export interface CommandLine {
  /** The command's path below `keyrite`, e.g. "node serve". */
  path: string;
  /** The long flags the command accepts. */
  takes: ReadonlySet<string>;
  /** The long flags the operator gave it. */
  gave: ReadonlySet<string>;
}

type Hint = (at: CommandLine) => string | undefined;

const always = (hint: string): Hint => () => hint;
const when = (test: (at: CommandLine) => boolean, hint: string): Hint => (at) => (test(at) ? hint : undefined);

const HINTS: Partial<Record<ErrorCode, Hint>> = {
  NO_WORKSPACE: always('make one with "keyrite init", or name another with --workspace DIR'),
  ROSTER_NOT_SEALED: always('seal it with "keyrite roster seal" (generator and witness)'),
  NOT_ENROLLED: always('enrol them with "keyrite identity new --name NAME --role ROLE"'),
  // The CLI names its own missing inputs; below it, only the witness can be missing (when
  // none or several are enrolled).
  MISSING_INPUT: when((at) => at.takes.has('--witness') && !at.gave.has('--witness'), 'name the witness with --witness NAME'),
  QUORUM_NOT_MET: (at) => {
    if (!at.takes.has('--approvers')) return undefined;
    return at.takes.has('--approval') ? 'name the approving custodians with --approvers A,B, or give their approval files with --approval FILE' : 'name the approving custodians with --approvers A,B';
  },
  APPROVAL_EXPIRED: when((at) => at.path === 'approve', 'ask for a new request; an expired one is never approved'),
  WRONG_REQUEST: when((at) => at.path === 'approve', 'check that the request was made on this workspace and is the one the ceremony will run'),
  BAD_RECIPIENT: when((at) => at.path === 'recover private-key', 'give --to the recipient\'s age X25519 recipient, as "age-keygen" prints it (age1…)'),
  SESSION_NOT_RECORDED: when((at) => at.path === 'recover custodian' || at.path === 'guardian release', 'a session exists once its start is sealed: "keyrite recover custodian --custodian C --approvers A,B" (with the witness)'),
  WRONG_RECIPIENT: when((at) => at.path === 'guardian release', 'pass --to exactly as the session\'s start printed it, and compare its fingerprint by voice'),
  ROTATION_REQUIRED: always('the custodian rotates first, or finishes the rotation cut short: "keyrite rotate --custodian NAME" (approved by the other custodians, witnessed; finishing takes no new approvals)'),
  NODE_NOT_EMPTY: when((at) => ['sign', 'refresh', 'reshare', 'repair'].includes(at.path), 'if the key was never exported with deletion, run "keyrite export --key KEY --delete-after-export" first'),
  WRONG_NODE: when((at) => at.gave.has('--nodes'), 'check that --nodes points each node id at that node'),
  // A history that is damaged, not torn: the auditor's full report, checked against what the
  // witnesses and signers kept, says whether its tail was erased.
  TRANSCRIPT_DAMAGED: when(
    (at) => at.path !== 'audit verify',
    'run "keyrite audit verify --genesis D --checkpoint D --receipt FILE" with the witnesses\' digests and the signers\' receipts for the whole report',
  ),
  HISTORY_NOT_EXTENDED: when(
    (at) => at.path !== 'audit verify' && at.path !== 'node serve',
    'run "keyrite audit verify --head D --checkpoint D" with the digests the witnesses wrote down, to see which history is the real one',
  ),
  // Below the CLI, node serve's only usage error is its listen address.
  USAGE: when((at) => at.path === 'node serve', 'give --listen as HOST:PORT, e.g. 127.0.0.1:0'),
};

/** The hint for a lower layer's error, if the command that failed has one to give. */
export function hintFor(e: KeyriteError, at: CommandLine | undefined): string | undefined {
  if (e instanceof CliError || !at) return undefined;
  return HINTS[e.code]?.(at);
}

export function commandLineOf(cmd: Command): CommandLine {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  const flags = (options: readonly Option[]): Set<string> => new Set(options.flatMap((o) => (o.long ? [o.long] : [])));
  const given = cmd.options.filter((o) => cmd.getOptionValueSource(o.attributeName()) === 'cli');
  return { path: names.join(' '), takes: flags(cmd.options), gave: flags(given) };
}
