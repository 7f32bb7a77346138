import type { Command } from 'commander';
import { run, type ExportOptions } from '../context.js';
import { sealLines } from '../format/common.js';
import { exportLines } from '../format/key.js';
import { collectNamed, NODES_HELP, parseNodes } from '../inputs.js';

// keyrite export: each node's share encrypted to its custodian; with deletion, the nodes then
// forget it and attest that they hold nothing (docs/ARCHITECTURE.md §1, step 3).

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
      run<ExportOptions>(async (o, ctx) => {
        const { exportKey } = await import('../../ceremony/export.js');
        const r = await exportKey({ ws: ctx.ws, keyId: o.key, deleteAfter: Boolean(o.deleteAfterExport), witness: o.witness, identities: o.identity, operator: ctx.operator, connect: o.nodes });
        return {
          data: { keyId: r.keyId, epoch: r.epoch, shards: r.shards, nodesEmpty: r.nodesEmpty, ceremony: r.ceremony, head: r.sealed.head },
          lines: [`Key ${r.keyId} exported in ceremony ${r.ceremony}:`, ...exportLines(r), ...sealLines(r.sealed)],
        };
      }),
    );
}
