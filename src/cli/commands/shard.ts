import type { Command } from 'commander';
import { run, type ShardCheckOptions } from '../context.js';
import { sealData, sealLines } from '../format/common.js';
import { collectNamed } from '../inputs.js';

// keyrite shard check: a drill proving a custodian's shard opens, recorded, without using it.

export function register(program: Command): void {
  const shard = program.command('shard').description('custodians\' shards');
  shard
    .command('check')
    .description('drill: prove the custodian\'s shard opens and matches the key record, without using it')
    .requiredOption('--key <keyId>', 'the key')
    .requiredOption('--custodian <name>', 'the custodian')
    .option('--shard <name=path>', 'the custodian\'s shard, if not at its standard path', collectNamed)
    .option('--identity <name=path>', 'the custodian\'s identity file, if not at its standard path', collectNamed)
    .action(
      run<ShardCheckOptions>(async (o, ctx) => {
        const { checkShard } = await import('../../ceremony/shard-check.js');
        const r = await checkShard({ ws: ctx.ws, keyId: o.key, custodian: o.custodian, shardPath: o.shard?.get(o.custodian), identityPath: o.identity?.get(o.custodian), operator: ctx.operator });
        const { sealed, ...facts } = r;
        return {
          data: { ...facts, ...sealData(sealed) },
          lines: [`✓ ${r.custodian}'s shard of ${r.keyId} (epoch ${r.epoch}, party ${r.party}) opens and matches the key record.`, ...sealLines(sealed)],
        };
      }),
    );
}
