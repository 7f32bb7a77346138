import type { Command } from 'commander';
import { run, type CustodianSetupOptions } from '../context.js';
import { sealData, sealLines } from '../format/common.js';
import { collectList, collectNamed, parseCount } from '../inputs.js';

// keyrite custodian setup: the custodian's age key split k-of-m among their guardians.

export function register(program: Command): void {
  const custodian = program.command('custodian').description('custodian set-up');
  custodian
    .command('setup')
    .description('split the custodian\'s age key among guardians (k of m); the Ed25519 key is never split')
    .requiredOption('--custodian <name>', 'the custodian')
    .requiredOption('--guardians <g1,g2,...>', 'the guardians, in order', collectList)
    .option('--threshold <k>', 'guardians needed to rebuild the key (must be the roster policy\'s k)', parseCount)
    .option('--identity <name=path>', 'the custodian\'s identity file, if not at its standard path', collectNamed)
    .action(
      run<CustodianSetupOptions>(async (o, ctx) => {
        const { setupCustodian } = await import('../../ceremony/custodian-setup.js');
        const r = await setupCustodian({ ws: ctx.ws, custodian: o.custodian, guardians: o.guardians, k: o.threshold, identityPath: o.identity?.get(o.custodian), operator: ctx.operator });
        return {
          data: { custodian: o.custodian, setId: r.setId, k: r.k, m: r.m, shares: r.shares, ...sealData(r.sealed) },
          lines: [
            `${o.custodian}'s age key is split ${r.k}-of-${r.m} (set ${r.setId}).`,
            ...r.shares.map((s) => `  guardian ${s.index}: ${s.guardian} carries away ${s.path}`),
            'Each guardian should now run "keyrite guardian check" to prove their share opens.',
            ...sealLines(r.sealed),
          ],
        };
      }),
    );
}
