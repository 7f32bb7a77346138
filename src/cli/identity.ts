import type { Command } from 'commander';
import { PERSON_ROLES, type PersonRole } from '../state/roles.js';
import type { PublicIdentity } from '../state/identity.js';
import { usageError } from '../base/errors.js';
import { readJson } from '../fs/workspace.js';
import { identityLines, sealLines, workFactor } from './format.js';
import { run } from './main.js';

function parseRole(value: string): PersonRole {
  if (!(PERSON_ROLES as readonly string[]).includes(value)) throw usageError(`role must be one of ${PERSON_ROLES.join(', ')}; got "${value}"`);
  return value as PersonRole;
}

export function register(program: Command): void {
  const identity = program.command('identity').description('people\'s identities: an age key and an Ed25519 key');
  identity
    .command('new')
    .description('make an identity (passphrase-locked age file) and enrol it in the roster')
    .requiredOption('--name <name>', 'the person\'s name (lowercase)')
    .requiredOption('--role <role>', `one of ${PERSON_ROLES.join(', ')}`, parseRole)
    .option('--out <dir>', 'where to write the identity file (default holdings/<name>/)')
    .action(
      run(async (o, ctx) => {
        const { enrolPerson } = await import('../ceremony/enrol.js');
        const { file, pub, sealed } = await enrolPerson({ ws: ctx.ws, name: o.name, role: o.role, out: o.out, operator: ctx.operator, logN: workFactor(ctx) });
        return {
          data: { identity: pub, file, head: sealed.head },
          lines: [`Enrolled:`, ...identityLines(pub), `${pub.name} carries away ${file} and keeps the passphrase apart from it.`, ...sealLines(sealed)],
        };
      }),
    );
  identity
    .command('show')
    .description('show an enrolled identity, or a .pub.json file')
    .option('--name <name>', 'an enrolled name')
    .option('--file <path>', 'a <name>.pub.json file')
    .action(
      run(async (o, ctx) => {
        if (!o.name === !o.file) throw usageError('give exactly one of --name or --file');
        const { currentRoster } = await import('../ceremony/queries.js');
        const { member } = await import('../state/roster.js');
        const pub: PublicIdentity = o.file ? readJson<PublicIdentity>(o.file, 'the public identity file') : member((await currentRoster(ctx.ws)).roster, o.name);
        return { data: { identity: pub }, lines: identityLines(pub) };
      }),
    );
}
