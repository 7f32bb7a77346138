import type { Command } from 'commander';
import { run, type GuardianCheckOptions, type GuardianReleaseOptions } from '../context.js';
import { digestLines, sealData, sealLines } from '../format/common.js';
import { collectNamed } from '../inputs.js';

// keyrite guardian check|release: a guardian's share of a custodian's age key, drilled or
// released to a recovery session's one-off recipient.

/** The flags check and release share: whose share, and where it and its guardian's identity are. */
function common(c: Command): Command {
  return c
    .requiredOption('--guardian <name>', 'the guardian')
    .requiredOption('--custodian <name>', 'the custodian whose key the share belongs to')
    .option('--share <name=path>', 'the guardian\'s share file, if not at its standard path', collectNamed)
    .option('--identity <name=path>', 'the guardian\'s identity file, if not at its standard path', collectNamed);
}

/** The guardian's files, where the operator named them. */
function guardianFiles(o: GuardianCheckOptions): { sharePath?: string; identityPath?: string } {
  return { sharePath: o.share?.get(o.guardian), identityPath: o.identity?.get(o.guardian) };
}

export function register(program: Command): void {
  const guardian = program.command('guardian').description('a guardian\'s share of a custodian\'s age key');
  common(guardian.command('check').description('prove the share opens and belongs to the current set, without revealing it')).action(
    run<GuardianCheckOptions>(async (o, ctx) => {
      const { checkGuardianShare } = await import('../../ceremony/guardian-check.js');
      const r = await checkGuardianShare({ ws: ctx.ws, guardian: o.guardian, custodian: o.custodian, ...guardianFiles(o), operator: ctx.operator });
      return {
        data: { guardian: r.guardian, custodian: r.custodian, setId: r.setId, index: r.index, k: r.k, m: r.m, path: r.path, ...sealData(r.sealed) },
        lines: [`✓ ${r.guardian}'s share ${r.index} of ${r.m} (threshold ${r.k}) of ${r.custodian}'s key opens and belongs to set ${r.setId}.`, ...sealLines(r.sealed)],
      };
    }),
  );
  common(guardian.command('release').description('on the guardian\'s own device, from a copy of the workspace\'s public files: re-encrypt the share to a recorded recovery session\'s one-off recipient; writes only the signed release file'))
    .requiredOption('--session <id>', 'the recovery session id, as recorded by its start')
    .requiredOption('--to <recipient>', 'the session\'s recorded one-off age recipient (compare its fingerprint by voice)')
    .option('--out <dir>', 'where to write the released share (default holdings/<guardian>/)')
    .action(
      run<GuardianReleaseOptions>(async (o, ctx) => {
        const { releaseGuardianShare } = await import('../../ceremony/guardian-release.js');
        const r = await releaseGuardianShare({
          ws: ctx.ws, guardian: o.guardian, custodian: o.custodian, session: o.session, to: o.to, ...guardianFiles(o), out: o.out, operator: ctx.operator,
        });
        return {
          data: { guardian: o.guardian, custodian: o.custodian, session: o.session, path: r.path, recipient: r.recipient, fingerprint: r.fingerprint, words: r.words },
          lines: [
            `Released share ${r.index} of ${o.custodian}'s key to session ${o.session}, recipient ${r.recipient}:`,
            ...digestLines('  fingerprint', r.fingerprint),
            `Hand ${r.path} to the recovery operator; it opens only with that session's one-off key. Nothing else was written.`,
          ],
        };
      }),
    );
}
