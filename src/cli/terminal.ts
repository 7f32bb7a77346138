import type { Operator } from '../ceremony/kernel/operator.js';
import { CliError, cliUsage } from './hints.js';
import { checkNewPassphrase, readPassphraseFile, type NamedPaths } from './inputs.js';

// The operator as a terminal: prompts only when a person is there (stdin and stdout are TTYs
// and CI is unset); otherwise every input must come from a flag, and a missing one is a usage
// error that names the flag.

// Prompts talk on stderr so that stdout carries only the result (one JSON object under --json).
const PROMPT_STREAMS = { input: process.stdin, output: process.stderr };

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY && !process.env.CI);
}

export interface TerminalOptions {
  passphraseFiles: NamedPaths;
  yes: boolean;
  json: boolean;
}

export class TerminalOperator implements Operator {
  readonly interactive = isInteractive();
  constructor(private readonly opts: TerminalOptions) {}

  async passphrase(name: string, purpose: 'unlock' | 'new'): Promise<string> {
    const file = this.opts.passphraseFiles.get(name);
    if (file) {
      const p = readPassphraseFile(file, name);
      return purpose === 'new' ? checkNewPassphrase(p, name) : p;
    }
    if (!this.interactive) throw cliUsage(`no passphrase for ${name}: pass --passphrase-file ${name}=PATH`, 'MISSING_INPUT');
    const { password } = await import('@inquirer/prompts');
    if (purpose === 'unlock') return password({ message: `Passphrase for ${name}:`, mask: '*' }, PROMPT_STREAMS);
    const first = checkNewPassphrase(await password({ message: `New passphrase for ${name}:`, mask: '*' }, PROMPT_STREAMS), name);
    const again = await password({ message: `Repeat the new passphrase for ${name}:`, mask: '*' }, PROMPT_STREAMS);
    if (first !== again) throw new CliError('PASSPHRASE_MISMATCH', `the two passphrases for ${name} differ; nothing was written`);
    return first;
  }

  /** From --passphrase-file, else asked (an empty answer: not here); without a terminal, absent. */
  async passphraseIfPresent(name: string): Promise<string | null> {
    const file = this.opts.passphraseFiles.get(name);
    if (file) return readPassphraseFile(file, name);
    if (!this.interactive) return null;
    const { password } = await import('@inquirer/prompts');
    const p = await password({ message: `Passphrase for ${name} (leave empty if ${name} is not here):`, mask: '*' }, PROMPT_STREAMS);
    return p === '' ? null : p;
  }

  async confirm(question: string): Promise<'prompt' | 'yes'> {
    if (this.opts.yes) return 'yes';
    if (!this.interactive) throw cliUsage(`${question} — not confirmed: pass --yes to confirm when not at a terminal`, 'NOT_CONFIRMED');
    const { confirm } = await import('@inquirer/prompts');
    if (!(await confirm({ message: question, default: false }, PROMPT_STREAMS))) {
      throw new CliError('DECLINED', 'declined by the operator; nothing was changed');
    }
    return 'prompt';
  }

  async progress<T>(label: string, work: () => Promise<T>): Promise<T> {
    if (!process.stderr.isTTY || this.opts.json) return work();
    const { default: ora } = await import('ora');
    const spinner = ora({ text: label, stream: process.stderr }).start();
    try {
      const r = await work();
      spinner.succeed();
      return r;
    } catch (e) {
      spinner.fail();
      throw e;
    }
  }
}
