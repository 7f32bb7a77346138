import type { Command } from 'commander';
import { sealLines } from './format.js';
import { exportLines } from './key-format.js';
import { collectNamed } from './inputs.js';
import { run } from './main.js';
import { NODES_HELP, parseNodes } from './node.js';

export function register(program: Command): void {
  program
    .command('export')
    .description('each node encrypts its share to its custodian (a shard); optionally the nodes then delete their copies')
    .requiredOption('--key <keyId>', 'the key')
    .option('--delete-after-export', 'nodes delete their copies once every shard is written and recorded, and attest they hold nothing')
    .option('--nodes <node=url,...>', NODES_HELP, parseNodes)
    .option('--witness <name>', 'with deletion: the witness who co-signs the seal (default: the only enrolled witness)')
    .option('--identity <name=path>', 'an identity file not at its standard path (generator, witness); repeat for each', collectNamed)
    .action(
      run(async (o, ctx) => {
        const { exportKey } = await import('../ceremony/export.js');
        const r = await exportKey({ ws: ctx.ws, keyId: o.key, deleteAfter: Boolean(o.deleteAfterExport), witness: o.witness, identities: o.identity, operator: ctx.operator, connect: o.nodes });
        return {
          data: { keyId: r.keyId, epoch: r.epoch, shards: r.shards, nodesEmpty: r.nodesEmpty, ceremony: r.ceremony, head: r.sealed.head },
          lines: [`Key ${r.keyId} exported in ceremony ${r.ceremony}:`, ...exportLines(r), ...sealLines(r.sealed)],
        };
      }),
    );
}
