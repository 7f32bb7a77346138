import type { Command } from 'commander';
import type { Operator } from '../../ceremony/kernel/operator.js';
import type { RotateResult } from '../../ceremony/rotate.js';
import type { WrittenRequest } from '../../ceremony/approve.js';
import { run, workFactor, type RotateOptions } from '../context.js';
import { digestLines, identityLines, sealData, sealLines } from '../format/common.js';
import { cliUsage } from '../hints.js';
import { checkNewPassphrase, collectList, collectNamed, collectRepeated, parseDuration, readPassphraseFile } from '../inputs.js';
import type { Result } from '../output.js';
import { isInteractive, TerminalOperator } from '../terminal.js';

// keyrite rotate: a custodian's new identity under the other custodians' quorum (witnessed),
// every shard they hold re-wrapped to it on this machine and its age key split among guardians
// anew; or the request for it, written for the approvers' own devices (CEREMONY.md, "Rotating a
// custodian's identity").

const DEFAULT_EXPIRY = '24h';

function requested(w: WrittenRequest & { custodian: string }): Result {
  return {
    data: { custodian: w.custodian, file: w.file, digest: w.digest, words: w.words, expires: w.request.expires, head: w.request.head },
    lines: [
      `The request to rotate ${w.custodian}'s identity is in ${w.file} (expires ${w.request.expires}); nothing was recorded.`,
      ...digestLines('  request', w.digest),
      'Each approver (never the custodian rotated), on their own device: keyrite approve --request FILE --approver NAME --out NAME.approval.json',
      `Then: keyrite rotate --custodian ${w.custodian} --approval A.approval.json --approval B.approval.json`,
    ],
  };
}

function rotated(r: RotateResult): Result {
  return {
    data: {
      custodian: r.custodian, from: r.from.fingerprint, identity: r.pub, fingerprint: r.pub.fingerprint, file: r.file,
      shards: r.shards, setId: r.setId, guardians: r.guardians, retired: r.retired, request: r.request, approvers: r.approvers, ...sealData(r.sealed),
      ...(r.resumed ? { resumed: r.resumed } : {}), ...(r.setAside.length ? { setAside: r.setAside } : {}),
    },
    lines: [
      r.resumed
        ? `✓ ${r.custodian}'s rotation ${r.resumed}, cut short after its approved roster change, is finished:`
        : `✓ ${r.custodian} rotated to a new identity, approved by ${r.approvers.join(', ')}:`,
      ...identityLines(r.pub),
      ...r.shards.map((x) => `  shard of ${x.keyId} (epoch ${x.epoch}, party ${x.party}) re-wrapped: ${x.path}`),
      `  new guardian set ${r.setId} (${r.guardians.join(', ')})`,
      ...r.setAside.map((f) => `  A file no entry records (left by the rotation cut short) was moved aside to ${f}; it is not used: destroy it.`),
      `${r.custodian} carries away ${r.file} and the new shards. Destroy the old identity file and old shards (moved to ${r.retired.join(', ') || 'nowhere: none were at their standard paths'}); each guardian destroys their old share.`,
      ...sealLines(r.sealed),
    ],
  };
}

/** The operator, with the custodian's new passphrase from its own file (their old one unlocks the old identity). */
function withNewPassphrase(inner: TerminalOperator, custodian: string, file: string | undefined, json: boolean): Operator {
  if (!file && !isInteractive()) throw cliUsage(`no new passphrase for ${custodian}: pass --new-passphrase-file PATH`, 'MISSING_INPUT');
  const prompter = new TerminalOperator({ passphraseFiles: new Map(), yes: false, json });
  return {
    passphrase: async (name, purpose) => {
      if (name !== custodian || purpose !== 'new') return inner.passphrase(name, purpose);
      return file ? checkNewPassphrase(readPassphraseFile(file, name), name) : prompter.passphrase(name, 'new');
    },
    passphraseIfPresent: (name) => inner.passphraseIfPresent(name),
    confirm: (q) => inner.confirm(q),
    progress: (label, work) => inner.progress(label, work),
  };
}

export function register(program: Command): void {
  program
    .command('rotate')
    .description('give a custodian a new identity under the other custodians\' quorum (witnessed): every shard re-wrapped locally, the age key split anew; or write the request for the approvers')
    .requiredOption('--custodian <name>', 'the custodian whose identity is rotated')
    .option('--approval <file>', 'an approval made with `approve --out` (repeatable)', collectRepeated)
    .option('--approvers <a,b>', 'custodians approving in the room (never the custodian rotated)', collectList)
    .option('--request-out <file>', 'write the approval request here for the approvers\' own devices, and record nothing')
    .option('--expires <duration>', `with --request-out: how long the request stays valid (30m, 24h, 7d; default ${DEFAULT_EXPIRY})`, parseDuration)
    .option('--new-passphrase-file <path>', 'the custodian\'s new passphrase (their old one comes with --passphrase-file NAME=PATH)')
    .option('--shard <keyId=path>', 'the custodian\'s shard of a key, if not at its standard path', collectNamed)
    .option('--guardians <a,b,c>', 'the new guardian set (default: the guardians of the set on record)', collectList)
    .option('--witness <name>', 'the witness who seals it (default: the only one enrolled)')
    .option('--identity <name=path>', 'an identity file not at its standard path (the custodian\'s old one, approver, witness, generator)', collectNamed)
    .action(
      run<RotateOptions>(async (o, ctx) => {
        const { requestRotate, rotateCustodian } = await import('../../ceremony/rotate.js');
        if (o.requestOut) {
          if (o.approval || o.approvers || o.newPassphraseFile) throw cliUsage('--request-out writes the request only; the approvals and the new passphrase come with a later rotate');
          return requested(await requestRotate({ ws: ctx.ws, custodian: o.custodian, operator: ctx.operator, out: o.requestOut, ttlMs: o.expires ?? parseDuration(DEFAULT_EXPIRY) }));
        }
        if (o.expires !== undefined) throw cliUsage('--expires goes with --request-out');
        const operator = withNewPassphrase(ctx.operator, o.custodian, o.newPassphraseFile, ctx.json);
        return rotated(await rotateCustodian({
          ws: ctx.ws, custodian: o.custodian, operator, logN: workFactor(ctx), approvals: o.approval ?? [], approvers: o.approvers ?? [],
          witness: o.witness, identities: o.identity ?? new Map<string, string>(), shards: o.shard, guardians: o.guardians,
        }));
      }),
    );
}
