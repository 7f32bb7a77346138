import { publicDetails, type KeyriteError } from '../base/errors.js';

// The two faces of every command: lines for a person, or exactly one JSON object on stdout for
// a script (docs/ARCHITECTURE.md §7). Human notes under --json go to stderr so stdout stays parseable.
//
// How keyrite talks — one style of sentence for every message, whichever layer wrote it:
//
//   - An error is one line: lower case, no full stop, clauses joined by "; ". It says what is
//     wrong and names what it is about — the file, person, party, node or value ("the
//     passphrase file for g1 (/m/g1.pass) is empty"). A value the operator typed is quoted.
//   - The layers below the CLI say only what is wrong; they name no flags. Which flag or command
//     to try next is a hint, in the imperative ("name the witness with --witness NAME"): the
//     CLI adds it from hints.ts, after the message as a last clause, or as `error.hint` under
//     --json, where `error.message` stays the lower layer's own words.
//   - The CLI's own usage errors name the flag in the message itself: there is nothing below.
//   - A result for a person is whole sentences. A check that held starts with ✓, one that
//     failed with ✗. What someone must carry away is said as "NAME carries away PATH"; what the
//     witness must write down is a digest in groups of four hex digits and in PGP words.
//   - Nothing secret ever appears in a message: no passphrase, share or key, only paths to them.

export interface Result {
  data: Record<string, unknown>;
  lines: string[];
}

function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !('NO_COLOR' in process.env);
}

export async function printResult(r: Result, json: boolean): Promise<void> {
  if (json) {
    process.stdout.write(JSON.stringify({ ok: true, ...r.data }) + '\n');
    return;
  }
  const text = r.lines.join('\n') + '\n';
  if (!useColor()) {
    process.stdout.write(text);
    return;
  }
  const { default: chalk } = await import('chalk');
  process.stdout.write(text.replace(/^✓/gm, chalk.green('✓')).replace(/^✗/gm, chalk.red('✗')));
}

/** A refusal: on stderr for a person (hint as the last clause), or the one JSON object. */
export function printError(e: KeyriteError, json: boolean, hint?: string): void {
  if (json) {
    const error = { code: e.code, message: e.message, ...(hint ? { hint } : {}) };
    process.stdout.write(JSON.stringify({ ok: false, error, ...publicDetails(e) }) + '\n');
  } else {
    process.stderr.write(`keyrite: ${e.message}${hint ? `; ${hint}` : ''}\n`);
  }
}
