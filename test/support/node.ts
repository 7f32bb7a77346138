import type { SessionParams } from '../../src/engine/index.js';
import type { EntryDraft } from '../../src/evidence/entry.js';
import { loadScript } from '../../src/evidence/script.js';
import type { NodeClient, StartInputs } from '../../src/node/client.js';
import type { CustodyState } from '../../src/state/fold.js';

// Driving a node directly, as a test does: a signing run started from one object, and an entry
// draft for calls whose signed entry the test does not append anywhere.

export function signStart(node: NodeClient, x: { session: SessionParams } & StartInputs['sign']) {
  return node.start('sign', x.session, { request: x.request, share: x.share, message: x.message });
}

/** A draft after the last line of `state`, under the roster in force: what a node needs before it signs an entry. */
export function nodeDraft(state: CustodyState, ceremony = '9999-test'): EntryDraft {
  return { ceremony, seq: 0, prev: state.head, roster: state.rosterDigest, script: loadScript('sign').digest };
}
