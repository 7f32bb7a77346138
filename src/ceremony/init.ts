import { readdirSync } from 'node:fs';
import { KeyriteError } from '../base/errors.js';
import { withLock } from '../fs/lock.js';
import type { Workspace } from '../fs/workspace.js';
import { newIdentity, type PublicIdentity } from '../custody/identity.js';
import { createNodeIdentity } from '../node/identity.js';
import { enrol, newRoster, saveRoster } from '../state/roster.js';
import type { Policy } from '../state/policy.js';
import type { Sealed } from '../evidence/writer.js';
import { confirmFirst, inCeremony } from './evidence.js';
import type { Operator } from './operator.js';
import { writePersonIdentity } from './unlock.js';

export interface InitInput {
  ws: Workspace;
  policy: Policy;
  generator: string;
  operator: Operator;
  logN: number;
}

export interface InitResult {
  generator: PublicIdentity;
  identityFile: string;
  nodes: PublicIdentity[];
  sealed: Sealed;
}

function isEmptyOrAbsent(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** A new workspace: roster open for enrolment, the generator's identity, one identity per node. */
export async function initWorkspace(i: InitInput): Promise<InitResult> {
  if (!isEmptyOrAbsent(i.ws.root)) {
    throw new KeyriteError('WORKSPACE_EXISTS', `${i.ws.root} is not empty; keyrite init makes a new workspace only in an empty or new directory`);
  }
  const roster = newRoster(i.policy);
  const passphrase = await i.operator.passphrase(i.generator, 'new');
  const confirmed = await confirmFirst(i.operator, 'init');
  i.ws.mkdirs(i.ws.root);
  return withLock(i.ws.root, 'init', async () => {
    const gen = await newIdentity(i.generator, 'generator');
    const written = await i.operator.progress('Locking the generator identity (scrypt)', () =>
      writePersonIdentity(i.ws, gen, passphrase, i.logN, i.ws.holdingsDir(gen.name)),
    );
    enrol(roster, written.pub);
    const nodes: PublicIdentity[] = [];
    for (let n = 1; n <= i.policy.parties; n++) nodes.push(await createNodeIdentity(i.ws, `node-${n}`));
    for (const n of nodes) enrol(roster, n);
    saveRoster(i.ws, roster);
    // The genesis ceremony: its first line carries the initial roster and is the auditor's
    // first trust anchor.
    return inCeremony(i.ws, i.operator, { script: 'init', actor: gen, params: { policy: i.policy } }, async () => ({
      generator: written.pub,
      identityFile: written.file,
      nodes,
    }), [], confirmed);
  });
}
