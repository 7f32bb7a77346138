import { KeyriteError } from '../base/errors.js';
import { listDir } from '../fs/atomic.js';
import type { Workspace } from '../fs/workspace.js';
import { newIdentity } from '../custody/identity.js';
import type { Sealed } from '../evidence/writer.js';
import { createNodeIdentity } from '../node/identity.js';
import type { PublicIdentity } from '../state/identity.js';
import type { Policy } from '../state/policy.js';
import { enrol, newRoster } from '../state/roster.js';
import type { Operator } from './kernel/operator.js';
import { writePersonIdentity } from './kernel/people.js';
import { withNewWorkspace } from './kernel/session.js';

// init: a new workspace. Records, in order: ceremony.start (the genesis entry, carrying the
// whole opening roster: policy, the generator, the nodes), its checklist confirmations,
// ceremony.seal. The generator's identity file and each node's home (nodes/<id>/, which a node
// kept apart from the workspace takes with it) are written before the ceremony opens.

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

/** Anything else there (files, or a file where the directory should be) is someone's: never init over it. */
function isEmptyOrAbsent(dir: string): boolean {
  try {
    return listDir(dir).length === 0;
  } catch {
    return false;
  }
}

/** A new workspace: roster open for enrolment, the generator's identity, one identity per node. */
export async function initWorkspace(i: InitInput): Promise<InitResult> {
  if (!isEmptyOrAbsent(i.ws.root)) {
    throw new KeyriteError('WORKSPACE_EXISTS', `${i.ws.root} is not empty; keyrite init makes a new workspace only in an empty or new directory`);
  }
  const roster = newRoster(i.policy);
  const passphrase = await i.operator.passphrase(i.generator, 'new');
  i.ws.mkdirs(i.ws.root);
  return withNewWorkspace({ ws: i.ws, operator: i.operator, label: 'init' }, async (s) => {
    await s.checklist('init', 'ceremony.start');
    const gen = await newIdentity(i.generator, 'generator');
    const written = await i.operator.progress('Locking the generator identity (scrypt)', () =>
      writePersonIdentity(i.ws, gen, passphrase, i.logN, i.ws.holdingsDir(gen.name)),
    );
    enrol(roster, written.pub);
    const nodes: PublicIdentity[] = [];
    for (let n = 1; n <= i.policy.parties; n++) {
      const id = `node-${n}`;
      i.ws.mkdirs(i.ws.nodeDir(id));
      nodes.push(await createNodeIdentity(i.ws.nodeDir(id), id));
    }
    for (const n of nodes) enrol(roster, n);
    return s.run({ script: 'init', actor: gen, params: { policy: i.policy }, genesis: roster }, async () => ({ generator: written.pub, identityFile: written.file, nodes }));
  });
}
