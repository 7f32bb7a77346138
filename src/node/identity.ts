import { join } from 'node:path';
import { createFile } from '../fs/atomic.js';
import { readBytes, type Workspace } from '../fs/workspace.js';
import { newIdentity, parseSecret, serializeSecret, publicOf, type Identity, type PublicIdentity } from '../custody/identity.js';

// A node's identity lives in a 0600 file inside its own directory and never leaves it: the
// node process must start unattended, so it has no passphrase (DESIGN §2).

export function nodeIdentityFile(ws: Workspace, id: string): string {
  return join(ws.nodeDir(id), 'identity.json');
}

export async function createNodeIdentity(ws: Workspace, id: string): Promise<PublicIdentity> {
  const identity = await newIdentity(id, 'node');
  ws.mkdirs(ws.nodeDir(id));
  createFile(nodeIdentityFile(ws, id), serializeSecret(identity));
  return publicOf(identity);
}

export async function loadNodeIdentity(ws: Workspace, id: string): Promise<Identity> {
  const path = nodeIdentityFile(ws, id);
  return parseSecret(readBytes(path, `the identity of node ${id}`), path);
}
