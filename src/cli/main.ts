import { Command, CommanderError, Option } from 'commander';
import { KeyriteError } from '../base/errors.js';
import { registerCommands } from './commands/index.js';
import { disableCoreDumps } from './core-dumps.js';
import { commandLineOf, hintFor, type CommandLine } from './hints.js';
import { collectNamed } from './inputs.js';
import { printError } from './output.js';
import { toolInfo } from '../evidence/tool.js';

// Entry point: global options, the output contract of docs/ARCHITECTURE.md §7 (one JSON object under --json;
// exit 0 done, 1 refused or failed, 2 usage), and one error path for every command, which
// adds the CLI's hint to a lower layer's refusal.

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
  return new KeyriteError('USAGE', e.message.replace(/^error: /, ''));
}

/** `--version --json`: the version and the digest of the code that runs, which every transcript entry records as its tool. */
function printVersionJson(): void {
  const { version, digest } = toolInfo();
  process.stdout.write(JSON.stringify({ ok: true, name: 'keyrite', version, digest }) + '\n');
}

export async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const args = argv.slice(2);
  if (json && args.includes('--version')) return printVersionJson();
  const program = buildProgram();
  // The command whose action runs, so that a refusal from below gets that command's hint.
  let running: CommandLine | undefined;
  program.hook('preAction', (_program, action) => {
    running = commandLineOf(action);
    // Before the command can unlock anything (README, honest limits).
    disableCoreDumps();
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help, --version, `keyrite help [command]` and a bare `keyrite` succeed; a group named
      // without its subcommand ('commander.help', help shown on stderr) is a usage error like any other.
      if (['commander.helpDisplayed', 'commander.version'].includes(e.code)) return;
      if (e.code === 'commander.help' && (args.length === 0 || args[0] === 'help')) return;
      printError(commanderToKeyrite(e), json);
      process.exitCode = 2;
      return;
    }
    const err = e instanceof KeyriteError ? e : new KeyriteError('INTERNAL', `unexpected failure: ${(e as Error)?.message ?? e}`, { cause: e });
    printError(err, json, hintFor(err, running));
    process.exitCode = err.exit;
  }
}
