import { requireRegularFile, type Workspace } from '../fs/workspace.js';
import { ceremonyFiles } from '../evidence/chain.js';
import type { CustodyState } from '../state/fold.js';
import { Verifier, type FailureKind } from './verify.js';

// The custody state every decision is made from (docs/ARCHITECTURE.md §2, "State from evidence"): the fold
// of the workspace's signed, hash-chained transcript, each entry's signatures checked against the
// roster in force at its line. Any entry that fails those checks stops the load: nothing is
// decided from evidence that does not verify. What only the whole history shows (an unclosed
// ceremony, a torn last line, a missing attestation) is left to `audit verify` and to the next
// ceremony's interruption record.

const UNTRUSTED: readonly FailureKind[] = ['form', 'chain', 'signature', 'roster', 'script', 'transition'];

export async function loadState(ws: Workspace): Promise<CustodyState> {
  const files = ceremonyFiles(ws.requireExists().transcriptsDir).map((f) => requireRegularFile(f, 'the transcript'));
  const v = new Verifier({ files, root: ws.root, artifacts: false, stopOn: UNTRUSTED });
  await v.run();
  return v.state;
}
