import { join } from 'node:path';
import { createFile, replaceFile } from '../fs/atomic.js';
import { readBytes, type Workspace } from '../fs/workspace.js';
import { lockIdentity, publicOf, unlockIdentity, type Identity, type PublicIdentity, type Role } from '../custody/identity.js';
import { member, type Roster } from '../transcript/roster.js';
import type { Operator } from './operator.js';

/** Opens `name`'s identity file (their standard path unless `path` is given) and checks it against the roster. */
export async function unlockPerson(ws: Workspace, roster: Roster, operator: Operator, name: string, role: Role, path?: string): Promise<Identity> {
  const expected = member(roster, name, role);
  const file = path ?? ws.identityFile(name);
  const bytes = readBytes(file, `the identity file of ${name}`);
  return unlockIdentity(bytes, await operator.passphrase(name, 'unlock'), `the identity file of ${name} (${file})`, expected);
}

/**
 * Writes a person's identity: the passphrase-locked secret file and the public part beside it
 * in `dir` (what they carry away), and the public record in the workspace.
 */
export async function writePersonIdentity(ws: Workspace, id: Identity, passphrase: string, logN: number, dir: string): Promise<{ file: string; pub: PublicIdentity }> {
  const pub = publicOf(id);
  const file = ws.identityFile(id.name, dir);
  const locked = await lockIdentity(id, passphrase, logN);
  ws.mkdirs(dir, join(ws.root, 'identities'));
  createFile(file, locked);
  createFile(join(dir, `${id.name}.pub.json`), JSON.stringify(pub, null, 2) + '\n', 0o644);
  replaceFile(ws.publicIdentityFile(id.name), JSON.stringify(pub, null, 2) + '\n');
  return { file, pub };
}
