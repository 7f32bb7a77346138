import type { Command } from 'commander';
import type { RetireResult } from '../../ceremony/key-retire.js';
import { run, type KeyListOptions, type KeyRetireOptions, type KeyShowOptions } from '../context.js';
import { digestLines, sealData, sealLines } from '../format/common.js';
import { keyLines, keySummary } from '../format/key.js';
import { collectNamed } from '../inputs.js';
import { approvalOptions, quorumOf, requestedResult, requestLifetime } from '../approvals.js';
import type { Result } from '../output.js';

// keyrite key list|show: the workspace's keys, read-only. keyrite key retire: the key retired
// under the custodians' quorum, or the request for it written for the approvers' own devices
// (CEREMONY.md, "Retiring a key").

function retired(r: RetireResult): Result {
  return {
    data: { key: keySummary(r.record), request: r.request, approvers: r.approvers, ...sealData(r.sealed) },
    lines: [
      `✓ Key ${r.record.label} (${r.record.keyId}) is retired, approved by ${r.approvers.join(', ')}: it never signs or exports again.`,
      ...digestLines('  request', r.request),
      'Its shards may be destroyed once `keyrite audit verify` passes (README, "Retiring a key").',
      ...sealLines(r.sealed),
    ],
  };
}

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
  approvalOptions(
    key
      .command('retire')
      .description('retire a key under the custodians\' quorum (witnessed): it never signs or exports again; or write the request for the approvers')
      .requiredOption('--key <keyId>', 'the key'),
  )
    .option('--witness <name>', 'the witness who seals it (default: the only one enrolled)')
    .option('--identity <name=path>', 'an identity file not at its standard path (approver, witness, generator)', collectNamed)
    .action(
      run<KeyRetireOptions>(async (o, ctx) => {
        const { requestRetire, retireKey } = await import('../../ceremony/key-retire.js');
        const common = { ws: ctx.ws, keyId: o.key, operator: ctx.operator };
        const ttlMs = requestLifetime(o, 'key retire');
        if (ttlMs !== null) {
          const w = await requestRetire({ ...common, out: o.requestOut!, ttlMs });
          return requestedResult(w, `retire key ${w.keyId}`, `keyrite key retire --key ${w.keyId}`, { keyId: w.keyId });
        }
        return retired(await retireKey({ ...common, ...quorumOf(o), witness: o.witness, identities: o.identity ?? new Map<string, string>() }));
      }),
    );
}
