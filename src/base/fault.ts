// Fault injection for the crash tests (docs/ARCHITECTURE.md §8; README, "For tests only"). The
// rule "a crash at any point leaves the node's share or a complete, receipted shard, never
// neither" can only be shown by crashing for real: a test runs the CLI with
// KEYRITE_FAULT_AT=<boundary>[#<n>] and the process kills itself with SIGKILL the n-th time
// (default the first) it reaches that boundary — no handler runs, no file is closed, the lock is
// left behind, exactly as on a power loss after the last fsync. The boundaries are the points
// where custody can change on disk: every transcript entry once it is durable (named by its step,
// src/evidence/writer.ts) and every shard file once written, before its entry is recorded
// (`shard-file`, src/ceremony/export.ts and rotate.ts); in a rotation also the new identity once
// written, before the roster change (`identity-file`), and the old files once moved aside,
// before the new ones move into place (`retired-files`). The variable is honoured only when KEYRITE_TEST_FAULTS=1
// is set too, so a stray KEYRITE_FAULT_AT in an operator's environment can never kill a ceremony.

const FLAG = 'KEYRITE_TEST_FAULTS';
const AT = 'KEYRITE_FAULT_AT';

interface Fault {
  boundary: string;
  nth: number;
}

let fault: Fault | null | undefined; // undefined: the environment is not read yet
const reached = new Map<string, number>();

function faultOf(env: NodeJS.ProcessEnv): Fault | null {
  const at = env[AT];
  if (env[FLAG] !== '1' || !at) return null;
  const m = /^([^#\s]+)(?:#([1-9][0-9]*))?$/.exec(at);
  // A test that names no boundary it can reach must fail, not pass by never crashing.
  if (!m) throw new Error(`${AT} must be <boundary>[#<n>], got ${JSON.stringify(at)}`);
  return { boundary: m[1]!, nth: Number(m[2] ?? 1) };
}

/** A step boundary: under the test flag, the process dies here by SIGKILL if the environment says so. */
export function faultPoint(boundary: string): void {
  if (fault === undefined) fault = faultOf(process.env);
  if (fault === null || fault.boundary !== boundary) return;
  const n = (reached.get(boundary) ?? 0) + 1;
  reached.set(boundary, n);
  if (n === fault.nth) process.kill(process.pid, 'SIGKILL');
}
