import type { Command } from 'commander';
import type { PublicIdentity } from '../../state/identity.js';
import { readJson } from '../../fs/workspace.js';
import { PERSON_ROLES, type PersonRole } from '../../state/roles.js';
import { run, workFactor, type IdentityNewOptions, type IdentityShowOptions } from '../context.js';
import { identityLines, sealData, sealLines } from '../format/common.js';
import { cliUsage } from '../hints.js';

// keyrite identity new|show: a person's age and Ed25519 keys, enrolled while the roster is open.

function parseRole(value: string): PersonRole {
  const role = PERSON_ROLES.find((r) => r === value);
  if (!role) throw cliUsage(`role must be one of ${PERSON_ROLES.join(', ')}; got "${value}"`);
  return role;
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
      run<IdentityNewOptions>(async (o, ctx) => {
        const { enrolPerson } = await import('../../ceremony/enrol.js');
        const { file, pub, sealed } = await enrolPerson({ ws: ctx.ws, name: o.name, role: o.role, out: o.out, operator: ctx.operator, logN: workFactor(ctx) });
        return {
          data: { identity: pub, file, ...sealData(sealed) },
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
      run<IdentityShowOptions>(async (o, ctx) => {
        let pub: PublicIdentity;
        if (o.file && !o.name) {
          // The fingerprint shown is always the one the keys give, never the one written in the file.
          const { checkPublicIdentity } = await import('../../state/identity.js');
          pub = checkPublicIdentity(readJson<unknown>(o.file, 'the public identity file'), `the public identity file ${o.file}`);
        }
        else if (o.name && !o.file) {
          const { currentRoster } = await import('../../ceremony/queries.js');
          const { member } = await import('../../state/roster.js');
          pub = member((await currentRoster(ctx.ws)).roster, o.name);
        }
        else throw cliUsage('give exactly one of --name or --file');
        return { data: { identity: pub }, lines: identityLines(pub) };
      }),
    );
}
