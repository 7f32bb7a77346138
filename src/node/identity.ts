import { join } from 'node:path';
import { KeyriteError } from '../base/errors.js';
import { createFile } from '../fs/atomic.js';
import { readBytes } from '../fs/workspace.js';
import { newIdentity, parseSecret, serializeSecret, publicOf, type Identity } from '../custody/identity.js';
import type { PublicIdentity } from '../state/identity.js';

// A node's identity lives in a 0600 file inside the node's home directory and never leaves it:
// the node process must start unattended, so it has no passphrase (docs/ARCHITECTURE.md §2). Only code in
// src/node reads it; ceremonies get the node's signed answers, never its key.

export function nodeIdentityFile(home: string): string {
  return join(home, 'identity.json');
}

export async function createNodeIdentity(home: string, id: string): Promise<PublicIdentity> {
  const identity = await newIdentity(id, 'node');
  createFile(nodeIdentityFile(home), serializeSecret(identity));
  return publicOf(identity);
}

export async function loadNodeIdentity(home: string, id: string): Promise<Identity> {
  const path = nodeIdentityFile(home);
  const identity = await parseSecret(readBytes(path, `the identity of node ${id}`), path);
  if (identity.name !== id || identity.role !== 'node') throw new KeyriteError('IDENTITY_MISMATCH', `${path} is the identity of ${identity.name} (${identity.role}), not of node ${id}`);
  return identity;
}
