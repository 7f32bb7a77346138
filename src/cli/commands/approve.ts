import type { Command } from 'commander';
import type { ApproveResult, RecordFilesResult } from '../../ceremony/approve.js';
import { run, type ApproveOptions } from '../context.js';
import { digestLines, sealData, sealLines } from '../format/common.js';
import { cliUsage } from '../hints.js';
import { collectNamed, collectRepeated } from '../inputs.js';
import type { Result } from '../output.js';

// keyrite approve: a custodian approves one exact request (its digest shown in hex and PGP
// words), recorded at the ceremony laptop or written to a file the ceremony takes; or the
// generator records approval files made elsewhere (CEREMONY.md, "Approvals").

function approved(r: ApproveResult): Result {
  const where = r.file ? [`The signed approval is in ${r.file}; hand it to the ceremony.`] : [`Recorded in ${r.ceremony}.`, ...sealLines(r.sealed!)];
  return {
    data: { digest: r.digest, words: r.words, approver: r.approver, operation: r.operation, target: r.target, expires: r.expires, ...(r.file ? { file: r.file } : sealData(r.sealed!)) },
    lines: [`✓ ${r.approver} approved ${r.operation} of ${r.target} (expires ${r.expires}):`, ...digestLines('  request', r.digest), ...where],
  };
}

function recorded(r: RecordFilesResult): Result {
  return {
    data: { approvals: r.approvals, ...sealData(r.sealed) },
    lines: [...r.approvals.flatMap((a) => [`✓ ${a.approver}'s approval recorded:`, ...digestLines('  request', a.digest)]), `Recorded in ${r.ceremony}.`, ...sealLines(r.sealed)],
  };
}

export function register(program: Command): void {
  program
    .command('approve')
    .description('approve one exact request of a sensitive operation, or record approvals made elsewhere')
    .option('--request <file>', 'the approval request to approve')
    .option('--approver <name>', 'the custodian approving it')
    .option('--out <file>', 'write the signed approval here (on the approver\'s own device) instead of recording it')
    .option('--approval <file>', 'record an approval file made with --out (repeatable; the generator records it)', collectRepeated)
    .option('--identity <name=path>', 'an identity file not at its standard path (approver, generator)', collectNamed)
    .action(
      run<ApproveOptions>(async (o, ctx) => {
        const { approve, recordApprovalFiles } = await import('../../ceremony/approve.js');
        const identities = o.identity ?? new Map<string, string>();
        if (o.approval) {
          if (o.request || o.approver || o.out) throw cliUsage('--approval records files made elsewhere; it does not go with --request, --approver or --out');
          return recorded(await recordApprovalFiles({ ws: ctx.ws, operator: ctx.operator, files: o.approval, identities }));
        }
        if (!o.request || !o.approver) throw cliUsage('approve needs --request FILE and --approver NAME (or --approval FILE to record approvals made elsewhere)');
        return approved(await approve({ ws: ctx.ws, operator: ctx.operator, request: o.request, approver: o.approver, identities, out: o.out }));
      }),
    );
}
