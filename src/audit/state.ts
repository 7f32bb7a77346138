import { statSync } from 'node:fs';
import type { Workspace } from '../fs/workspace.js';
import { byCeremonyOrder, ceremonyFiles } from '../evidence/chain.js';
import { recall, remember, requireExtends } from './memo.js';
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
  const files = byCeremonyOrder(ceremonyFiles(ws.requireExists().transcriptsDir));
  // A transcript that is not a regular file (a directory, a link) is the verifier's 'form' failure, so it stops the load too.
  const recalled = recall(ws.root, files);
  const v = new Verifier({ files, root: ws.root, artifacts: false, stopOn: UNTRUSTED, resume: recalled?.resume });
  await v.run();
  requireExtends(v.state, recalled, ws.root);
  remember(ws.root, v.resumable);
  return v.state;
}

/** The transcript files as they are now: names, sizes and times. Any append or new ceremony changes it. */
function markOf(files: string[]): string {
  return files.map((f) => {
    const s = statSync(f);
    return `${f} ${s.size} ${s.mtimeMs}`;
  }).join('\n');
}

const folded = new Map<string, { mark: string; state: CustodyState }>();

/**
 * loadState for a reader that only reads (a served node answering many requests): the state is
 * folded again only when the transcript has changed since the last fold. A file rewritten to
 * the same size and time gains its writer nothing: the node goes on deciding from the history it
 * verified. Never for a ceremony, whose writer moves the state on.
 */
export async function readState(ws: Workspace): Promise<CustodyState> {
  const mark = markOf(ceremonyFiles(ws.requireExists().transcriptsDir));
  const hit = folded.get(ws.root);
  if (hit?.mark === mark) return hit.state;
  const state = await loadState(ws);
  folded.set(ws.root, { mark, state });
  return state;
}
