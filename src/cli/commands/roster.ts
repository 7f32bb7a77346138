import type { Command } from 'commander';
import { run, type RosterSealOptions, type RosterShowOptions } from '../context.js';
import { checkpointLines, digestLines, identityLines, sealData, sealLines } from '../format/common.js';
import { collectNamed } from '../inputs.js';

// keyrite roster show|seal: who may act in which role; version 1 frozen by generator and witness.

export function register(program: Command): void {
  const roster = program.command('roster').description('who may act, in which role: versioned, sealed by generator and witness');
  roster
    .command('show')
    .description('show the roster in force: version, digest, policy, members and their fingerprints')
    .action(
      run<RosterShowOptions>(async (_o, ctx) => {
        const { currentRoster } = await import('../../ceremony/queries.js');
        const { roster: r, digest } = await currentRoster(ctx.ws);
        const state = r.version === 0 ? 'open for enrolment (not sealed)' : `sealed, version ${r.version}`;
        const p = r.policy;
        return {
          data: { roster: r, version: r.version, digest },
          lines: [
            `Roster ${state}`,
            ...digestLines('digest', digest),
            `policy: ${p.threshold}-of-${p.parties} signing, guardians ${p.guardianThreshold}-of-${p.guardians}, ${p.approvals} approvals`,
            '',
            ...[...r.members, ...r.nodes].flatMap((m) => [...identityLines(m), '']),
          ],
        };
      }),
    );
  roster
    .command('seal')
    .description('freeze roster version 1, signed by the generator and co-signed by a witness')
    .option('--witness <name>', 'the witness who co-signs (default: the only one enrolled)')
    .option('--identity <name=path>', 'an identity file not at its standard path (generator, witness)', collectNamed)
    .action(
      run<RosterSealOptions>(async (o, ctx) => {
        const { sealRosterCeremony } = await import('../../ceremony/roster-seal.js');
        const r = await sealRosterCeremony({ ws: ctx.ws, operator: ctx.operator, witness: o.witness, identities: o.identity ?? new Map() });
        return {
          data: { version: r.version, digest: r.digest, ...sealData(r.sealed), genesis: r.sealed.genesis },
          lines: [
            `✓ Roster version ${r.version} sealed.`,
            ...checkpointLines('roster ', r.digest),
            ...checkpointLines('genesis', r.sealed.genesis),
            ...sealLines(r.sealed),
            'At this seal the witness also writes down the genesis checkpoint (CEREMONY.md, "Witness").',
          ],
        };
      }),
    );
}
