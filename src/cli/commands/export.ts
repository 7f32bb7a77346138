import type { Command } from 'commander';
import { run, type ExportOptions } from '../context.js';
import { sealData, sealLines } from '../format/common.js';
import { exportData, exportLines } from '../format/key.js';
import { collectNamed, NODES_HELP, parseNodes } from '../inputs.js';

// keyrite export: each node's share encrypted to its custodian; with deletion, the nodes then
// forget it and attest that they hold nothing (docs/ARCHITECTURE.md §1, step 3).

export function register(program: Command): void {
  program
    .command('export')
    .description('each node encrypts its share to its custodian (a shard); optionally the nodes then delete their copies')
    .requiredOption('--key <keyId>', 'the key')
    .option('--delete-after-export', 'each node deletes its copy once its custodian has opened the shard and signed a receipt (a custodian whose passphrase is not given is not here: their node keeps its share), and attests it holds nothing')
    .option('--nodes <node=url,...>', NODES_HELP, parseNodes)
    .option('--witness <name>', 'with deletion: the witness who co-signs the seal (default: the only enrolled witness)')
    .option('--identity <name=path>', 'an identity file not at its standard path (generator, witness, custodians); repeat for each', collectNamed)
    .option('--shard <name=path>', 'with deletion: a shard an earlier export wrote, where its custodian brought it (default: their holdings); repeat for each', collectNamed)
    .action(
      run<ExportOptions>(async (o, ctx) => {
        const { exportKey } = await import('../../ceremony/export.js');
        const r = await exportKey({
          ws: ctx.ws, keyId: o.key, deleteAfter: Boolean(o.deleteAfterExport), witness: o.witness, identities: o.identity, shards: o.shard, operator: ctx.operator, connect: o.nodes,
        });
        return {
          data: { keyId: r.keyId, epoch: r.epoch, ...exportData(r, r.keyId, Boolean(o.deleteAfterExport)), ...sealData(r.sealed) },
          lines: [`Key ${r.keyId} exported in ceremony ${r.ceremony}:`, ...exportLines(r, r.keyId), ...sealLines(r.sealed)],
        };
      }),
    );
}
