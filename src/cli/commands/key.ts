import type { Command } from 'commander';
import { run, type KeyListOptions, type KeyShowOptions } from '../context.js';
import { keyLines, keySummary } from '../format/key.js';

// keyrite key list|show: the workspace's keys, read-only.

export function register(program: Command): void {
  const key = program.command('key').description('the workspace\'s keys');
  key
    .command('list')
    .description('every key: id, engine, epoch, status, public key, addresses, custodians')
    .action(
      run<KeyListOptions>(async (_o, ctx) => {
        const { listKeys } = await import('../../ceremony/queries.js');
        const keys = await listKeys(ctx.ws);
        return { data: { keys: keys.map(keySummary) }, lines: keys.length ? keys.flatMap(keyLines) : ['No keys yet.'] };
      }),
    );
  key
    .command('show')
    .description('one key\'s record')
    .requiredOption('--key <keyId>', 'the key')
    .action(
      run<KeyShowOptions>(async (o, ctx) => {
        const { showKey } = await import('../../ceremony/queries.js');
        const k = await showKey(ctx.ws, o.key);
        return { data: { key: keySummary(k) }, lines: keyLines(k) };
      }),
    );
}
