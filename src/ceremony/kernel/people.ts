import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createFile, FileExistsError, replaceFile } from '../../fs/atomic.js';
import { readBytes, type Workspace } from '../../fs/workspace.js';
import { checkMatches, lockIdentity, publicOf, unlockIdentity, type Identity } from '../../custody/identity.js';
import { KeyriteError } from '../../base/errors.js';
import { type Role } from '../../state/roles.js';
import { type PublicIdentity } from '../../state/identity.js';
import { member, type Roster } from '../../state/roster.js';
import type { Operator } from './operator.js';

// The people at the table: opening their identity files (checked against the roster in force)
// and writing a new person's files.

/** Per-person identity files given as --identity NAME=PATH; anyone not named uses their standard path. */
export type IdentityPaths = Map<string, string>;

/** Opens `name`'s identity file (their standard path unless `path` is given) and checks it against the roster. */
export async function unlockPerson(ws: Workspace, roster: Roster, operator: Operator, name: string, role: Role, path?: string): Promise<Identity> {
  const expected = member(roster, name, role);
  const file = path ?? ws.identityFile(name);
  const what = `the identity file of ${name} (${file})`;
  const id = await unlockIdentity(readBytes(file, `the identity file of ${name}`), await operator.passphrase(name, 'unlock'), what);
  // A key a roster change replaced (rotation, recovery) is named as such: it must be destroyed, not retried.
  if (id.name === name && roster.formerKeys?.[name]?.includes(id.signing.publicKey)) {
    throw new KeyriteError('IDENTITY_RETIRED', `${what} holds an identity of ${name} that a roster change replaced; it is never used again: destroy it and use ${name}'s current identity (fingerprint ${expected.fingerprint})`);
  }
  checkMatches(id, expected, what);
  return id;
}

/** Opens the identity file of `expected` (their standard path unless `path` is given) with `passphrase`, checked against it. */
export function openIdentity(ws: Workspace, expected: PublicIdentity, passphrase: string, path?: string): Promise<Identity> {
  const file = path ?? ws.identityFile(expected.name);
  const bytes = readBytes(file, `the identity file of ${expected.name}`);
  return unlockIdentity(bytes, passphrase, `the identity file of ${expected.name} (${file})`, expected);
}

/** The two files a person's identity is written to in `dir`: the locked secret and its public part. */
export function identityFiles(ws: Workspace, name: string, dir: string): { file: string; pubFile: string } {
  return { file: ws.identityFile(name, dir), pubFile: join(dir, `${name}.pub.json`) };
}

/** Refuses before any work when either identity file is already in `dir`. */
export function checkIdentityTarget(ws: Workspace, name: string, dir: string): void {
  for (const f of Object.values(identityFiles(ws, name, dir))) if (existsSync(f)) throw new FileExistsError(f);
}

/**
 * Writes a person's identity: the passphrase-locked secret file and the public part beside it
 * in `dir` (what they carry away), and the public record in the workspace.
 */
export async function writePersonIdentity(ws: Workspace, id: Identity, passphrase: string, logN: number, dir: string): Promise<{ file: string; pub: PublicIdentity }> {
  const written = await writeIdentityFiles(ws, id, passphrase, logN, dir);
  publishIdentity(ws, written.pub);
  return written;
}

/** The person's two files in `dir` only, each created exclusively and durable; the public record is left as it is. */
export async function writeIdentityFiles(ws: Workspace, id: Identity, passphrase: string, logN: number, dir: string): Promise<{ file: string; pub: PublicIdentity }> {
  const pub = publicOf(id);
  const { file, pubFile } = identityFiles(ws, id.name, dir);
  checkIdentityTarget(ws, id.name, dir);
  const locked = await lockIdentity(id, passphrase, logN);
  ws.mkdirs(dir);
  createFile(pubFile, JSON.stringify(pub, null, 2) + '\n', 0o644);
  createFile(file, locked);
  return { file, pub };
}

/** The public record of `pub` in the workspace (identities/<name>.pub.json), replaced atomically. */
export function publishIdentity(ws: Workspace, pub: PublicIdentity): void {
  ws.mkdirs(join(ws.root, 'identities'));
  replaceFile(ws.publicIdentityFile(pub.name), JSON.stringify(pub, null, 2) + '\n');
}
