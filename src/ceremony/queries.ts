import type { Workspace } from '../fs/workspace.js';
import { loadState } from '../audit/state.js';
import { checkCaches } from '../state/cache.js';
import type { CustodyState } from '../state/fold.js';
import type { KeyRecord } from '../state/key-record.js';
import type { Roster } from '../state/roster.js';

// Read-only questions about a workspace, answered from the fold of its transcript, never from
// its caches: the keys as they are now, the roster in force. No lock: nothing is written.

/** The fold, refused when a cache beside it says otherwise (state/cache.ts). */
async function checkedState(ws: Workspace): Promise<CustodyState> {
  const state = await loadState(ws.requireExists());
  if (state.roster) checkCaches(ws, state);
  return state;
}

export async function listKeys(ws: Workspace): Promise<KeyRecord[]> {
  const state = await checkedState(ws);
  return [...state.keys.values()].sort((a, b) => a.keyId.localeCompare(b.keyId));
}

export async function showKey(ws: Workspace, keyId: string): Promise<KeyRecord> {
  return (await checkedState(ws)).key(keyId);
}

/** The roster in force, as the transcript folds to it (fingerprints recomputed, never read). */
export async function currentRoster(ws: Workspace): Promise<{ roster: Roster; digest: string }> {
  const state = await checkedState(ws);
  return { roster: state.requireRoster(), digest: state.rosterDigest };
}
