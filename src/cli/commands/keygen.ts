import type { Command } from 'commander';
import { ENGINE_IDS } from '../../engine/types.js';
import { run, type KeygenOptions } from '../context.js';
import { sealData, sealLines } from '../format/common.js';
import { exportData, exportLines, keyLines } from '../format/key.js';
import { cliUsage } from '../hints.js';
import { collectList, collectNamed, NODES_HELP, parseCount, parseEngine, parseNodes } from '../inputs.js';

// keyrite keygen: DKG among the nodes, party i assigned to the i-th custodian; with --export,
// the shards are written in the same ceremony (docs/ARCHITECTURE.md §1, steps 1 and 3).

export function register(program: Command): void {
  program
    .command('keygen')
    .description('generate a threshold key among the signing nodes (DKG), each party assigned to a custodian')
    .requiredOption('--engine <engine>', `threshold engine: ${ENGINE_IDS.join(', ')} (ecdsa is keyrite's own implementation of DKLs23, not externally audited)`, parseEngine)
    .requiredOption('--custodians <a,b,c>', 'custodians in party order: party i runs on node-i', collectList)
    .option('--threshold <t>', 'signers needed (default: the roster policy)', parseCount)
    .requiredOption('--label <label>', 'a name for the key')
    .option('--witness <name>', 'the witness who co-signs the seal (default: the only enrolled witness)')
    .option('--nodes <node=url,...>', NODES_HELP, parseNodes)
    .option('--identity <name=path>', 'an identity file not at its standard path (generator, witness, custodians); repeat for each', collectNamed)
    .option('--export', 'export each node\'s share to its custodian in the same ceremony')
    .option('--delete-after-export', 'with --export: each node deletes its copy once its custodian has opened the shard and signed a receipt (a custodian whose passphrase is not given is not here: their node keeps its share)')
    .action(
      run<KeygenOptions>(async (o, ctx) => {
        if (o.deleteAfterExport && !o.export) throw cliUsage('--delete-after-export needs --export');
        const { keygen } = await import('../../ceremony/keygen.js');
        const r = await keygen({
          ws: ctx.ws, engine: o.engine, custodians: o.custodians, threshold: o.threshold, label: o.label, witness: o.witness, identities: o.identity,
          export: Boolean(o.export), deleteAfterExport: Boolean(o.deleteAfterExport), operator: ctx.operator, connect: o.nodes,
        });
        const k = r.record;
        const { engineNotice } = await import('../../engine/index.js');
        const notice = engineNotice(k.engine);
        return {
          data: {
            keyId: k.keyId, engine: k.engine, publicKey: k.publicKey, threshold: k.threshold, parties: k.parties, epoch: k.epoch,
            addresses: k.addresses, label: k.label, ...sealData(r.sealed), ...(notice ? { notice } : {}),
            ...(r.export ? exportData(r.export, k.keyId, Boolean(o.deleteAfterExport)) : {}),
          },
          lines: [`Key generated in ceremony ${r.ceremony}.`, ...(notice ? [`Note: ${notice}`] : []), ...keyLines(k), ...(r.export ? exportLines(r.export, k.keyId) : []), ...sealLines(r.sealed)],
        };
      }),
    );
}
