import type { Command } from 'commander';
import type { KeyRecord } from '../state/key-record.js';
import { keyLines } from './key-format.js';
import { run } from './main.js';

const summary = (k: KeyRecord) => ({
  keyId: k.keyId, label: k.label, engine: k.engine, epoch: k.epoch, status: k.status, publicKey: k.publicKey,
  threshold: k.threshold, addresses: k.addresses, custodians: k.parties.map((p) => p.custodian), parties: k.parties,
});

export function register(program: Command): void {
  const key = program.command('key').description('the workspace\'s keys');
  key
    .command('list')
    .description('every key: id, engine, epoch, status, public key, addresses, custodians')
    .action(
      run(async (_o, ctx) => {
        const { listKeys } = await import('../ceremony/queries.js');
        const keys = await listKeys(ctx.ws);
        return { data: { keys: keys.map(summary) }, lines: keys.length ? keys.flatMap(keyLines) : ['No keys yet.'] };
      }),
    );
  key
    .command('show')
    .description('one key\'s record')
    .requiredOption('--key <keyId>', 'the key')
    .action(
      run(async (o, ctx) => {
        const { showKey } = await import('../ceremony/queries.js');
        const k = await showKey(ctx.ws, o.key);
        return { data: { key: summary(k) }, lines: keyLines(k) };
      }),
    );
}
