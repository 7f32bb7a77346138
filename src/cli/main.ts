import { Command, CommanderError, Option } from 'commander';
import { KeyriteError } from '../base/errors.js';
import { Workspace } from '../fs/workspace.js';
import { collectNamed, type NamedPaths } from './inputs.js';
import { printError, printResult, type Result } from './output.js';
import { TerminalOperator } from './terminal.js';
import { registerCommands } from './commands.js';

// Entry point: global options, the output contract of DESIGN §7 (one JSON object under --json;
// exit 0 done, 1 refused or failed, 2 usage), and one error path for every command.

export interface Context {
  ws: Workspace;
  json: boolean;
  operator: TerminalOperator;
  fastKdf: boolean;
}

export type Action = (opts: Record<string, any>, ctx: Context) => Promise<Result>;

function contextOf(cmd: Command): Context {
  const g = cmd.optsWithGlobals();
  const ws = new Workspace(g.workspace ?? process.env.KEYRITE_WORKSPACE ?? './keyrite-workspace');
  const passphraseFiles: NamedPaths = g.passphraseFile ?? new Map();
  return {
    ws,
    json: Boolean(g.json),
    fastKdf: Boolean(g.insecureFastKdf),
    operator: new TerminalOperator({ passphraseFiles, yes: Boolean(g.yes), json: Boolean(g.json) }),
  };
}

/** Wraps a command's work so its result or error is printed the one way. */
export function run(action: Action): (...args: any[]) => Promise<void> {
  return async (...args: any[]) => {
    const cmd = args[args.length - 1] as Command;
    const ctx = contextOf(cmd);
    const result = await action(cmd.opts(), ctx);
    await printResult(result, ctx.json);
  };
}

export function buildProgram(): Command {
  const program = new Command('keyrite')
    .description('Threshold-key custody: ceremonies, shards, guardians, and signed evidence')
    .version(process.env.npm_package_version ?? '0.1.0')
    .option('--workspace <dir>', 'workspace directory (env KEYRITE_WORKSPACE; default ./keyrite-workspace)')
    .option('--json', 'print exactly one JSON object on stdout')
    .option('--yes', 'confirm destructive steps without asking (needed when not at a terminal)')
    .option('--passphrase-file <name=path>', 'file whose first line is NAME\'s passphrase (repeatable)', collectNamed)
    .addOption(new Option('--insecure-fast-kdf', 'low scrypt cost for new passphrase files: tests and demos only'))
    .showHelpAfterError(false)
    .exitOverride()
    // Errors are printed once, by main, in the output contract's form; set before the
    // commands are added so that every subcommand inherits it.
    .configureOutput({ outputError: () => undefined });
  registerCommands(program);
  return program;
}

function commanderToKeyrite(e: CommanderError): KeyriteError {
  const message = e.message.replace(/^error: /, '');
  return new KeyriteError('USAGE', message);
}

export async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version succeed; a group named without its subcommand ('commander.help',
      // help shown on stderr) is a usage error like any other.
      if (['commander.helpDisplayed', 'commander.version'].includes(e.code)) return;
      printError(commanderToKeyrite(e), json);
      process.exitCode = 2;
      return;
    }
    const err = e instanceof KeyriteError ? e : new KeyriteError('INTERNAL', `unexpected failure: ${(e as Error)?.message ?? e}`);
    printError(err, json);
    process.exitCode = err.exit;
  }
}
