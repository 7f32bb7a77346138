import type { Command } from 'commander';
import { DEFAULT_POLICY } from '../../state/policy.js';
import { run, workFactor, type InitOptions } from '../context.js';
import { identityLines, sealData, sealLines } from '../format/common.js';
import { parseCount } from '../inputs.js';

// keyrite init: a new workspace, its open roster, the generator's and the nodes' identities.

export function register(program: Command): void {
  program
    .command('init')
    .description('make a workspace: roster, the key generator\'s identity, and the signing nodes\' identities')
    .option('--generator <name>', 'name of the key generator', 'generator')
    .option('--threshold <t>', 'signers needed for the key (t of n)', parseCount, DEFAULT_POLICY.threshold)
    .option('--parties <n>', 'signing nodes (n)', parseCount, DEFAULT_POLICY.parties)
    .option('--guardian-threshold <k>', 'guardians needed to rebuild a custodian key (k of m)', parseCount, DEFAULT_POLICY.guardianThreshold)
    .option('--guardians <m>', 'guardians per custodian (m)', parseCount, DEFAULT_POLICY.guardians)
    .option('--approvals <a>', 'approvals needed for sensitive operations', parseCount, DEFAULT_POLICY.approvals)
    .action(
      run<InitOptions>(async (o, ctx) => {
        const { initWorkspace } = await import('../../ceremony/init.js');
        const policy = { threshold: o.threshold, parties: o.parties, guardianThreshold: o.guardianThreshold, guardians: o.guardians, approvals: o.approvals };
        const r = await initWorkspace({ ws: ctx.ws, policy, generator: o.generator, operator: ctx.operator, logN: workFactor(ctx) });
        return {
          data: { workspace: ctx.ws.root, policy, generator: r.generator, identityFile: r.identityFile, nodes: r.nodes.map((n) => n.name), genesis: r.sealed.genesis, ...sealData(r.sealed) },
          lines: [
            `Workspace ready at ${ctx.ws.root}`,
            `Policy: key ${policy.threshold}-of-${policy.parties}, guardians ${policy.guardianThreshold}-of-${policy.guardians}, approvals ${policy.approvals}`,
            ...identityLines(r.generator),
            `Nodes: ${r.nodes.map((n) => n.name).join(', ')}`,
            `The generator carries away ${r.identityFile}.`,
            'Next: enrol custodians, guardians and a witness with "keyrite identity new".',
            ...sealLines(r.sealed),
          ],
        };
      }),
    );
}
