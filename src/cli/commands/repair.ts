import type { Command } from 'commander';
import { approvalOptions, quorumOf, requestedResult, requestLifetime } from '../approvals.js';
import { run, type RepairOptions } from '../context.js';
import { digestLines, sealData, sealLines } from '../format/common.js';
import { exportData, exportLines } from '../format/key.js';
import { collectList, collectNamed, NODES_HELP, parseNodes } from '../inputs.js';

// keyrite repair: a custodian's lost shard rebuilt by t helpers, no share changed (CEREMONY.md,
// "Repairing a lost shard"); or the request for it written for the approvers' own devices.

export function register(program: Command): void {
  approvalOptions(
    program
      .command('repair')
      .description('rebuild a custodian\'s lost shard from t helpers under the custodians\' quorum (witnessed), without rebuilding the key or changing any share')
      .requiredOption('--key <keyId>', 'the key')
      .requiredOption('--custodian <name>', 'the custodian whose shard is lost (their identity is needed)')
      .requiredOption('--helpers <a,b>', 'the holders who help, at least the key\'s threshold', collectList),
  )
    .option('--witness <name>', 'the witness who seals it (default: the only one enrolled)')
    .option('--nodes <node=url,...>', NODES_HELP, parseNodes)
    .option('--shard <name=path>', 'a helper\'s shard, if not at its standard path', collectNamed)
    .option('--identity <name=path>', 'an identity file not at its standard path (approver, custodian, witness, generator)', collectNamed)
    .action(
      run<RepairOptions>(async (o, ctx) => {
        const { repairShare, requestRepair } = await import('../../ceremony/repair.js');
        const target = { ws: ctx.ws, keyId: o.key, operator: ctx.operator, custodian: o.custodian, helpers: o.helpers };
        const ttlMs = requestLifetime(o, 'repair');
        if (ttlMs !== null) {
          const w = await requestRepair({ ...target, out: o.requestOut!, ttlMs });
          return requestedResult(w, `repair ${o.custodian}'s share of key ${w.keyId}`, `keyrite repair --key ${w.keyId} --custodian ${o.custodian} --helpers ${o.helpers.join(',')}`, { keyId: w.keyId });
        }
        const r = await repairShare({ ...target, ...quorumOf(o), witness: o.witness, shards: o.shard, identities: o.identity, connect: o.nodes });
        return {
          data: { keyId: r.keyId, engine: r.engine, epoch: r.epoch, publicKey: r.publicKey, addresses: r.addresses, custodian: r.custodian, helpers: r.helpers, export: exportData(r.export, r.keyId, true), request: r.request, approvers: r.approvers, ...sealData(r.sealed) },
          lines: [
            `✓ ${r.custodian}'s share of key ${r.keyId} (${r.engine}, epoch ${r.epoch}) is rebuilt by ${r.helpers.join(', ')}, approved by ${r.approvers.join(', ')}; no share and no key changed.`,
            `  public key: ${r.publicKey}`,
            ...digestLines('  request', r.request), ...exportLines(r.export, r.keyId), ...sealLines(r.sealed),
          ],
        };
      }),
    );
}
