import type { Command } from 'commander';
import type { RecoveryRequest, RecoveryResult } from '../../ceremony/recover-custodian.js';
import { run, workFactor, type RecoverCustodianOptions } from '../context.js';
import { digestLines, identityLines, sealLines } from '../format/common.js';
import { cliUsage } from '../hints.js';
import { collectList, collectNamed } from '../inputs.js';
import type { Result } from '../output.js';

// keyrite recover custodian: start a recovery session (approved and witnessed), finish it with
// the released shares it recorded, or drill it on one laptop with the guardians' own files
// (docs/ARCHITECTURE.md §1, step 6; CEREMONY.md, "Custodian recovery").

/** A session recorded: what each guardian checks and runs next, and then the operator. */
function started(req: RecoveryRequest): Result {
  return {
    data: { session: req.session, recipient: req.recipient, fingerprint: req.fingerprint, words: req.words, custodian: req.custodian, setId: req.setId, ceremony: req.ceremony, head: req.sealed.head },
    lines: [
      `Recovery session ${req.session} for ${req.custodian} is recorded.`,
      `One-off recipient: ${req.recipient}`,
      ...digestLines('Its fingerprint', req.fingerprint),
      'Read the fingerprint to each guardian by voice. Each guardian, on their own device, with a copy of this workspace\'s public files:',
      `  keyrite guardian release --guardian NAME --custodian ${req.custodian} --session ${req.session} --to ${req.recipient}`,
      `Then: keyrite recover custodian --custodian ${req.custodian} --session ${req.session} --released NAME=PATH ... --approvers A,B`,
      ...sealLines(req.sealed),
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
    .description('start a custodian recovery (approved, witnessed), or finish it from k released shares, or drill it: the age key rebuilt, a new identity issued')
    .requiredOption('--custodian <name>', 'the custodian to recover')
    .option('--session <id>', 'finish this recorded recovery session with released shares')
    .option('--released <guardian=path>', 'a released share (repeat k times)', collectNamed)
    .option('--share <guardian=path>', 'drill on one laptop: a guardian\'s own share file (repeat k times)', collectNamed)
    .option('--approvers <a,b>', 'custodians approving the start or the drill, and signing the roster change (the policy\'s quorum; never the custodian recovered)', collectList)
    .option('--witness <name>', 'the witness who seals the start and the finish (default: the only one enrolled)')
    .option('--identity <name=path>', 'an identity file not at its standard path (guardian, approver, witness, generator)', collectNamed)
    .option('--out <dir>', 'where to write the new identity (default holdings/<custodian>/)')
    .action(
      run<RecoverCustodianOptions>(async (o, ctx) => {
        const { completeRecovery, drillRecovery, startRecovery } = await import('../../ceremony/recover-custodian.js');
        if (o.share && (o.session || o.released)) throw cliUsage('--share (drill) does not go with --session/--released');
        if (!o.session !== !o.released) throw cliUsage('--session and --released go together');
        const common = { ws: ctx.ws, custodian: o.custodian, operator: ctx.operator, logN: workFactor(ctx) };
        const quorum = { approvers: o.approvers ?? [], witness: o.witness, identities: o.identity ?? new Map<string, string>() };
        if (o.share) return recovered(await drillRecovery({ ...common, ...quorum, out: o.out, shares: o.share }));
        if (o.session && o.released) return recovered(await completeRecovery({ ...common, ...quorum, out: o.out, session: o.session, released: o.released }));
        if (o.out) throw cliUsage('--out goes with the finish (--session) or a drill (--share)');
        return started(await startRecovery({ ...common, ...quorum }));
      }),
    );
}
