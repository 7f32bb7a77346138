import type { Workspace } from '../fs/workspace.js';
import { loadState } from '../audit/state.js';
import type { KeyRecord } from '../state/key-record.js';
import type { Roster } from '../state/roster.js';

// Read-only questions about a workspace, answered from the fold of its transcript, never from
// its caches: the keys as they are now, the roster in force. No lock: nothing is written.

export async function listKeys(ws: Workspace): Promise<KeyRecord[]> {
  const state = await loadState(ws.requireExists());
  return [...state.keys.values()].sort((a, b) => a.keyId.localeCompare(b.keyId));
}

export async function showKey(ws: Workspace, keyId: string): Promise<KeyRecord> {
  return (await loadState(ws.requireExists())).key(keyId);
}

/** The roster in force, as the transcript folds to it (fingerprints recomputed, never read). */
export async function currentRoster(ws: Workspace): Promise<{ roster: Roster; digest: string }> {
  const state = await loadState(ws.requireExists());
  return { roster: state.requireRoster(), digest: state.rosterDigest };
}
