import type { Command } from 'commander';
import { approvalOptions, quorumOf, requestedResult, requestLifetime } from '../approvals.js';
import { run, type ReshareOptions } from '../context.js';
import { digestLines, sealData, sealLines } from '../format/common.js';
import { epochData, epochLines, exportData, exportLines } from '../format/key.js';
import { collectList, collectNamed, NODES_HELP, parseCount, parseNodes } from '../inputs.js';

// keyrite reshare: t holders deal the same key to a new set of custodians and threshold
// (CEREMONY.md, "Resharing a key"); or the request for it written for the approvers' own devices.

export function register(program: Command): void {
  approvalOptions(
    program
      .command('reshare')
      .description('deal a key to a new set of custodians or threshold under the custodians\' quorum (witnessed): same public key and addresses, next epoch')
      .requiredOption('--key <keyId>', 'the key')
      .requiredOption('--custodians <a,b,d>', 'the new holders, in party order', collectList)
      .option('--threshold <t>', 'the new threshold (default: the key\'s)', parseCount)
      .option('--dealers <a,b>', 'the current holders who deal, at least the key\'s threshold (default: its first t custodians)', collectList),
  )
    .option('--witness <name>', 'the witness who seals it (default: the only one enrolled)')
    .option('--nodes <node=url,...>', NODES_HELP, parseNodes)
    .option('--shard <name=path>', 'a dealer\'s shard, if not at its standard path', collectNamed)
    .option('--identity <name=path>', 'an identity file not at its standard path (approver, custodian, witness, generator)', collectNamed)
    .action(
      run<ReshareOptions>(async (o, ctx) => {
        const { requestReshare, reshareKey } = await import('../../ceremony/reshare.js');
        const target = { ws: ctx.ws, keyId: o.key, operator: ctx.operator, custodians: o.custodians, threshold: o.threshold, dealers: o.dealers };
        const ttlMs = requestLifetime(o, 'reshare');
        if (ttlMs !== null) {
          const w = await requestReshare({ ...target, out: o.requestOut!, ttlMs });
          return requestedResult(w, `reshare key ${w.keyId} to ${o.custodians.join(', ')}`, `keyrite reshare --key ${w.keyId} --custodians ${o.custodians.join(',')}`, { keyId: w.keyId });
        }
        const r = await reshareKey({ ...target, ...quorumOf(o), witness: o.witness, shards: o.shard, identities: o.identity, connect: o.nodes });
        return {
          data: { ...epochData(r), custodians: r.custodians, threshold: r.threshold, dealers: r.dealers, export: exportData(r.export, r.keyId, true), request: r.request, approvers: r.approvers, ...sealData(r.sealed) },
          lines: [
            ...epochLines(r, `reshared to ${r.custodians.join(', ')} (${r.threshold}-of-${r.custodians.length}) by dealers ${r.dealers.join(', ')}, approved by ${r.approvers.join(', ')}`),
            ...digestLines('  request', r.request), ...exportLines(r.export, r.keyId), ...sealLines(r.sealed),
          ],
        };
      }),
    );
}
