import { publicDetails, type KeyriteError } from '../base/errors.js';

// The two faces of every command: lines for a person, or exactly one JSON object on stdout for
// a script. Human notes under --json go to stderr so stdout stays parseable.

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

export function printError(e: KeyriteError, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify({ ok: false, error: { code: e.code, message: e.message }, ...publicDetails(e) }) + '\n');
  } else {
    process.stderr.write(`keyrite: ${e.message}\n`);
  }
}
