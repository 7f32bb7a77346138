import type { Command } from 'commander';
import { approvalOptions, quorumOf, requestedResult, requestLifetime } from '../approvals.js';
import { run, type RefreshOptions } from '../context.js';
import { digestLines, sealData, sealLines } from '../format/common.js';
import { epochData, epochLines, exportData, exportLines } from '../format/key.js';
import { collectNamed, NODES_HELP, parseNodes } from '../inputs.js';

// keyrite refresh: every share of a key renewed, same public key, next epoch (CEREMONY.md,
// "Refreshing a key"); or the request for it written for the approvers' own devices.

export function register(program: Command): void {
  approvalOptions(
    program
      .command('refresh')
      .description('renew every share of a key under the custodians\' quorum (witnessed): same public key and addresses, next epoch; old shards stop signing')
      .requiredOption('--key <keyId>', 'the key'),
  )
    .option('--witness <name>', 'the witness who seals it (default: the only one enrolled)')
    .option('--nodes <node=url,...>', NODES_HELP, parseNodes)
    .option('--shard <name=path>', 'a custodian\'s shard, if not at its standard path', collectNamed)
    .option('--identity <name=path>', 'an identity file not at its standard path (approver, custodian, witness, generator)', collectNamed)
    .action(
      run<RefreshOptions>(async (o, ctx) => {
        const { refreshKey, requestRefresh } = await import('../../ceremony/refresh.js');
        const common = { ws: ctx.ws, keyId: o.key, operator: ctx.operator };
        const ttlMs = requestLifetime(o, 'refresh');
        if (ttlMs !== null) {
          const w = await requestRefresh({ ...common, out: o.requestOut!, ttlMs });
          return requestedResult(w, `refresh key ${w.keyId}`, `keyrite refresh --key ${w.keyId}`, { keyId: w.keyId });
        }
        const r = await refreshKey({ ...common, ...quorumOf(o), witness: o.witness, shards: o.shard, identities: o.identity, connect: o.nodes });
        return {
          data: { ...epochData(r), export: exportData(r.export, r.keyId, true), request: r.request, approvers: r.approvers, ...sealData(r.sealed) },
          lines: [...epochLines(r, `refreshed, approved by ${r.approvers.join(', ')}`), ...digestLines('  request', r.request), ...exportLines(r.export, r.keyId), ...sealLines(r.sealed)],
        };
      }),
    );
}
