import type { Command } from 'commander';
import type { RecoveryRequest, RecoveryResult } from '../../ceremony/recover-custodian.js';
import { run, workFactor, type RecoverCustodianOptions } from '../context.js';
import { identityLines, sealLines } from '../format/common.js';
import { cliUsage } from '../hints.js';
import { collectList, collectNamed } from '../inputs.js';
import type { Result } from '../output.js';

// keyrite recover custodian: start a recovery session, complete it with released shares, or
// drill it on one laptop with the guardians' own files (docs/ARCHITECTURE.md §1, step 6).

/** A session opened: what each guardian runs next, and then the operator. */
function started(req: RecoveryRequest): Result {
  return {
    data: { session: req.session, recipient: req.recipient, custodian: req.custodian, setId: req.setId },
    lines: [
      `Recovery session ${req.session} for ${req.custodian}.`,
      `One-off recipient: ${req.recipient}`,
      'Each guardian runs on their own device:',
      `  keyrite guardian release --guardian NAME --custodian ${req.custodian} --session ${req.session} --to ${req.recipient}`,
      `Then: keyrite recover custodian --custodian ${req.custodian} --session ${req.session} --released NAME=PATH ...`,
    ],
  };
}

/** The key rebuilt and a new identity issued, from released shares or in a drill. */
function recovered(r: RecoveryResult): Result {
  return {
    data: { custodian: r.custodian, file: r.file, identity: r.pub, guardians: r.guardians, ceremony: r.ceremony, head: r.sealed.head },
    lines: [
      `✓ ${r.custodian}'s age key rebuilt from the shares of ${r.guardians.join(', ')}; a new identity was issued:`,
      ...identityLines(r.pub),
      `${r.custodian} carries away ${r.file}. Rotate ${r.custodian}'s shards to a fresh identity next.`,
      ...sealLines(r.sealed),
    ],
  };
}

export function register(program: Command): void {
  const recover = program.command('recover').description('recovery with a quorum');
  recover
    .command('custodian')
    .description('rebuild a custodian\'s age key from k guardian shares and issue a new identity around it')
    .requiredOption('--custodian <name>', 'the custodian to recover')
    .option('--session <id>', 'complete this recovery session with released shares')
    .option('--released <guardian=path>', 'a released share (repeat k times)', collectNamed)
    .option('--share <guardian=path>', 'drill on one laptop: a guardian\'s own share file (repeat k times)', collectNamed)
    .option('--approvers <a,b>', 'custodians approving the recovery (the policy\'s quorum)', collectList)
    .option('--witness <name>', 'the witness who seals the recovery (default: the only one enrolled)')
    .option('--identity <name=path>', 'an identity file not at its standard path (guardian, approver, witness, generator)', collectNamed)
    .option('--out <dir>', 'where to write the new identity (default holdings/<custodian>/)')
    .action(
      run<RecoverCustodianOptions>(async (o, ctx) => {
        const { completeRecovery, drillRecovery, startRecovery } = await import('../../ceremony/recover-custodian.js');
        if (o.share && (o.session || o.released)) throw cliUsage('--share (drill) does not go with --session/--released');
        if (!o.session !== !o.released) throw cliUsage('--session and --released go together');
        const common = { ws: ctx.ws, custodian: o.custodian, operator: ctx.operator, logN: workFactor(ctx), out: o.out };
        const quorum = { approvers: o.approvers ?? [], witness: o.witness, identities: o.identity ?? new Map<string, string>() };
        if (o.share) return recovered(await drillRecovery({ ...common, ...quorum, shares: o.share }));
        if (o.session && o.released) return recovered(await completeRecovery({ ...common, ...quorum, session: o.session, released: o.released }));
        return started(await startRecovery(common));
      }),
    );
}
