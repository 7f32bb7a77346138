import type { Run } from './cli.js';
import { ok, type TestWorkspace } from './workspace.js';

// The custodian recovery's commands as the tests run them: the start (approved by the quorum,
// sealed with the witness), a guardian's release on "their own device" (here the same
// workspace copy), and the finish with the releases.

export interface Started {
  session: string;
  recipient: string;
  fingerprint: string;
  words: string;
  ceremony: string;
}

/** `recover custodian --custodian C` (the start) with the quorum and C's new passphrase. */
export async function startArgs(tw: TestWorkspace, custodian: string, newPass: string): Promise<string[]> {
  return ['recover', 'custodian', '--custodian', custodian, '--json', '--passphrase-file', `${custodian}=${newPass}`, ...(await tw.quorumArgs(custodian))];
}

export async function startRecovery(tw: TestWorkspace, custodian: string, newPass: string): Promise<Started> {
  return ok(await tw.kr(await startArgs(tw, custodian, newPass)), `recover start for ${custodian}`);
}

export function releaseArgs(tw: TestWorkspace, guardian: string, custodian: string, session: string, to: string, extra: string[] = []): string[] {
  return ['guardian', 'release', '--json', '--guardian', guardian, '--custodian', custodian, '--session', session, '--to', to, ...tw.passArgs(guardian), ...extra];
}

/** A guardian's release; returns the release file's path. */
export async function release(tw: TestWorkspace, guardian: string, custodian: string, s: { session: string; recipient: string }, extra: string[] = []): Promise<string> {
  return ok(await tw.kr(releaseArgs(tw, guardian, custodian, s.session, s.recipient, extra)), `release by ${guardian}`).path;
}

/** The finish with `released` (guardian → file), the quorum and C's new passphrase, into `out`. */
export async function finish(tw: TestWorkspace, custodian: string, session: string, released: [string, string][], newPass: string, out: string): Promise<Run> {
  return tw.kr([
    'recover', 'custodian', '--custodian', custodian, '--json', '--session', session,
    ...released.flatMap(([g, p]) => ['--released', `${g}=${p}`]),
    '--passphrase-file', `${custodian}=${newPass}`, ...(await tw.quorumArgs(custodian)), '--out', out,
  ]);
}
