import type { Command } from 'commander';
import type { RecoveryRequest, RecoveryResult } from '../../ceremony/recover-custodian.js';
import type { RecoverKeyResult } from '../../ceremony/recover-private-key.js';
import { run, workFactor, type RecoverCustodianOptions, type RecoverPrivateKeyOptions } from '../context.js';
import { digestLines, identityLines, sealLines } from '../format/common.js';
import { cliUsage } from '../hints.js';
import { collectList, collectNamed, collectRepeated } from '../inputs.js';
import type { Result } from '../output.js';

// keyrite recover custodian: start a recovery session (approved and witnessed), finish it with
// the released shares it recorded, or drill it on one laptop with the guardians' own files
// (docs/ARCHITECTURE.md §1, step 6; CEREMONY.md, "Custodian recovery"); keyrite recover
// private-key: the emergency, the key itself sealed to a named recipient and marked compromised
// (CEREMONY.md, "Emergency: recovering the private key").

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

/** The key sealed and compromised: the public key to compare with, and where the ciphertext is; never the secret. */
function keyRecovered(r: RecoverKeyResult): Result {
  const { file, sealed, ...facts } = r;
  return {
    data: { ...facts, file, head: sealed.head },
    lines: [
      `✓ The private key of ${r.keyId} (${r.engine}, epoch ${r.epoch}) was rebuilt from the shards of ${r.custodians.join(', ')}, approved by ${r.approvers.join(', ')}.`,
      `  public key: ${r.publicKey} (compare it with \`keyrite key show --key ${r.keyId}\` and with what the recipient finds inside)`,
      `  sealed to ${r.recipient} in ${file}; only that recipient's identity opens it: age -d -i IDENTITY ${file}`,
      `Key ${r.keyId} is now compromised for good: keyrite and its nodes refuse to sign with it. Move its funds or replace it.`,
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
  recover
    .command('private-key')
    .description('emergency: rebuild the private key from t shards, sealed to a named age recipient; the key is compromised for good')
    .requiredOption('--key <keyId>', 'the key to recover')
    .requiredOption('--to <recipient>', 'the age X25519 recipient (age1…) the key is sealed to')
    .requiredOption('--custodians <a,b>', 'the custodians whose shards are combined (at least the key\'s threshold)', collectList)
    .requiredOption('--out <file>', 'where to write the age ciphertext (created, never overwritten)')
    .option('--approval <file>', 'an approval made with `approve --out` (repeatable; one request)', collectRepeated)
    .option('--approvers <a,b>', 'custodians approving in the room (the policy\'s quorum, with any --approval)', collectList)
    .option('--shard <name=path>', 'a custodian\'s shard, if not at its standard path', collectNamed)
    .option('--witness <name>', 'the witness who seals (default: the only one enrolled)')
    .option('--identity <name=path>', 'an identity file not at its standard path', collectNamed)
    .action(
      run<RecoverPrivateKeyOptions>(async (o, ctx) => {
        const { recoverPrivateKey } = await import('../../ceremony/recover-private-key.js');
        return keyRecovered(await recoverPrivateKey({
          ws: ctx.ws, operator: ctx.operator, keyId: o.key, to: o.to, custodians: o.custodians, approvals: o.approval ?? [], approvers: o.approvers ?? [],
          witness: o.witness, shards: o.shard, identities: o.identity, out: o.out,
        }));
      }),
    );
}
