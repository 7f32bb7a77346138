import type { Command } from 'commander';
import type { RecoveryRequest, RecoveryResult } from '../../ceremony/recover-custodian.js';
import type { RecoverKeyResult } from '../../ceremony/recover-private-key.js';
import { approvalOptions, quorumOf, requestedResult, requestLifetime } from '../approvals.js';
import { run, workFactor, type RecoverCustodianOptions, type RecoverPrivateKeyOptions } from '../context.js';
import { digestLines, identityLines, sealData, sealLines } from '../format/common.js';
import { cliUsage } from '../hints.js';
import { collectList, collectNamed } from '../inputs.js';
import type { Result } from '../output.js';

// keyrite recover custodian: start a recovery session (approved and witnessed), finish it with
// the released shares it recorded, or drill it on one laptop with the guardians' own files
// (docs/ARCHITECTURE.md §1, step 6; CEREMONY.md, "Custodian recovery"); keyrite recover
// private-key: the emergency, the key itself sealed to a named recipient and marked compromised
// (CEREMONY.md, "Emergency: recovering the private key").

/** A session recorded: what each guardian checks and runs next, and then the operator. */
function started(req: RecoveryRequest): Result {
  return {
    data: { session: req.session, recipient: req.recipient, fingerprint: req.fingerprint, words: req.words, custodian: req.custodian, setId: req.setId, ...sealData(req.sealed) },
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
    data: { custodian: r.custodian, file: r.file, identity: r.pub, guardians: r.guardians, ...sealData(r.sealed) },
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
    data: { ...facts, file, ...sealData(sealed) },
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
  approvalOptions(
    recover
      .command('custodian')
      .description('start a custodian recovery (approved, witnessed), or finish it from k released shares, or drill it: the age key rebuilt, a new identity issued')
      .requiredOption('--custodian <name>', 'the custodian to recover'),
  )
    .option('--session <id>', 'finish this recorded recovery session with released shares')
    .option('--released <guardian=path>', 'a released share (repeat k times)', collectNamed)
    .option('--share <guardian=path>', 'drill on one laptop: a guardian\'s own share file (repeat k times)', collectNamed)
    .option('--witness <name>', 'the witness who seals the start and the finish (default: the only one enrolled)')
    .option('--identity <name=path>', 'an identity file not at its standard path (guardian, approver, witness, generator)', collectNamed)
    .option('--out <dir>', 'where to write the new identity (default holdings/<custodian>/)')
    .action(
      run<RecoverCustodianOptions>(async (o, ctx) => {
        const { completeRecovery, drillRecovery, startRecovery } = await import('../../ceremony/recover-custodian.js');
        if (o.share && (o.session || o.released)) throw cliUsage('--share (drill) does not go with --session/--released');
        if (!o.session !== !o.released) throw cliUsage('--session and --released go together');
        const common = { ws: ctx.ws, custodian: o.custodian, operator: ctx.operator, logN: workFactor(ctx) };
        const ttlMs = requestLifetime(o, 'recover custodian');
        if (ttlMs !== null) {
          const { requestRecovery } = await import('../../ceremony/recover-custodian.js');
          const w = await requestRecovery({ ...common, out: o.requestOut!, ttlMs });
          return requestedResult(w, `start ${o.custodian}'s recovery`, `keyrite recover custodian --custodian ${o.custodian}`, { custodian: o.custodian });
        }
        // Approval files count for the start only: the finish and a drill change the roster, which its approvers sign in the room.
        if (o.approval && (o.share || o.session)) throw cliUsage('--approval goes with the start; the finish and a drill take their approvers in the room (--approvers), who sign the roster change');
        const quorum = { approvers: o.approvers ?? [], witness: o.witness, identities: o.identity ?? new Map<string, string>() };
        if (o.share) return recovered(await drillRecovery({ ...common, ...quorum, out: o.out, shares: o.share }));
        if (o.session && o.released) return recovered(await completeRecovery({ ...common, ...quorum, out: o.out, session: o.session, released: o.released }));
        if (o.out) throw cliUsage('--out goes with the finish (--session) or a drill (--share)');
        return started(await startRecovery({ ...common, ...quorum, approvals: o.approval ?? [] }));
      }),
    );
  approvalOptions(
    recover
      .command('private-key')
      .description('emergency: rebuild the private key from t shards, sealed to a named age recipient; the key is compromised for good')
      .requiredOption('--key <keyId>', 'the key to recover')
      .requiredOption('--to <recipient>', 'the age X25519 recipient (age1…) the key is sealed to')
      .option('--custodians <a,b>', 'the custodians whose shards are combined (at least the key\'s threshold)', collectList)
      .option('--out <file>', 'where to write the age ciphertext (created, never overwritten)'),
  )
    .option('--shard <name=path>', 'a custodian\'s shard, if not at its standard path', collectNamed)
    .option('--witness <name>', 'the witness who seals (default: the only one enrolled)')
    .option('--identity <name=path>', 'an identity file not at its standard path', collectNamed)
    .action(
      run<RecoverPrivateKeyOptions>(async (o, ctx) => {
        const { recoverPrivateKey, requestKeyRecovery } = await import('../../ceremony/recover-private-key.js');
        const ttlMs = requestLifetime(o, 'recover private-key');
        if (ttlMs !== null) {
          const w = await requestKeyRecovery({ ws: ctx.ws, operator: ctx.operator, keyId: o.key, to: o.to, out: o.requestOut!, ttlMs });
          return requestedResult(w, `recover the private key of ${o.key} to ${o.to}`, `keyrite recover private-key --key ${o.key} --to ${o.to} --custodians A,B --out FILE`, { keyId: o.key });
        }
        if (!o.custodians || !o.out) throw cliUsage('give --custodians and --out (or --request-out to write the approvers\' request)', 'MISSING_INPUT');
        return keyRecovered(await recoverPrivateKey({
          ws: ctx.ws, operator: ctx.operator, keyId: o.key, to: o.to, custodians: o.custodians, ...quorumOf(o),
          witness: o.witness, shards: o.shard, identities: o.identity, out: o.out,
        }));
      }),
    );
}
