import type { Command } from 'commander';
import type { RetireResult } from '../../ceremony/key-retire.js';
import type { WrittenRequest } from '../../ceremony/approve.js';
import { run, type KeyListOptions, type KeyRetireOptions, type KeyShowOptions } from '../context.js';
import { digestLines, sealLines } from '../format/common.js';
import { keyLines, keySummary } from '../format/key.js';
import { cliUsage } from '../hints.js';
import { collectList, collectNamed, collectRepeated, parseDuration } from '../inputs.js';
import type { Result } from '../output.js';

// keyrite key list|show: the workspace's keys, read-only. keyrite key retire: the key retired
// under the custodians' quorum, or the request for it written for the approvers' own devices
// (CEREMONY.md, "Retiring a key").

const DEFAULT_EXPIRY = '24h';

function requested(w: WrittenRequest & { keyId: string }): Result {
  return {
    data: { keyId: w.keyId, file: w.file, digest: w.digest, words: w.words, expires: w.request.expires, head: w.request.head },
    lines: [
      `The request to retire key ${w.keyId} is in ${w.file} (expires ${w.request.expires}); nothing was recorded.`,
      ...digestLines('  request', w.digest),
      'Each approver, on their own device: keyrite approve --request FILE --approver NAME --out NAME.approval.json',
      `Then: keyrite key retire --key ${w.keyId} --approval A.approval.json --approval B.approval.json`,
    ],
  };
}

function retired(r: RetireResult): Result {
  return {
    data: { key: keySummary(r.record), request: r.request, approvers: r.approvers, ceremony: r.ceremony, head: r.sealed.head },
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
  key
    .command('retire')
    .description('retire a key under the custodians\' quorum (witnessed): it never signs or exports again; or write the request for the approvers')
    .requiredOption('--key <keyId>', 'the key')
    .option('--approval <file>', 'an approval made with `approve --out` (repeatable)', collectRepeated)
    .option('--approvers <a,b>', 'custodians approving in the room', collectList)
    .option('--request-out <file>', 'write the approval request here for the approvers\' own devices, and record nothing')
    .option('--expires <duration>', `with --request-out: how long the request stays valid (30m, 24h, 7d; default ${DEFAULT_EXPIRY})`, parseDuration)
    .option('--witness <name>', 'the witness who seals it (default: the only one enrolled)')
    .option('--identity <name=path>', 'an identity file not at its standard path (approver, witness, generator)', collectNamed)
    .action(
      run<KeyRetireOptions>(async (o, ctx) => {
        const { requestRetire, retireKey } = await import('../../ceremony/key-retire.js');
        const common = { ws: ctx.ws, keyId: o.key, operator: ctx.operator };
        if (o.requestOut) {
          if (o.approval || o.approvers) throw cliUsage('--request-out writes the request only; the approvals come with a later key retire');
          return requested(await requestRetire({ ...common, out: o.requestOut, ttlMs: o.expires ?? parseDuration(DEFAULT_EXPIRY) }));
        }
        if (o.expires !== undefined) throw cliUsage('--expires goes with --request-out');
        const quorum = { approvals: o.approval ?? [], approvers: o.approvers ?? [], witness: o.witness, identities: o.identity ?? new Map<string, string>() };
        return retired(await retireKey({ ...common, ...quorum }));
      }),
    );
}
