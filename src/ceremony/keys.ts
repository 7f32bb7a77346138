import { readdirSync } from 'node:fs';
import type { Workspace } from '../fs/workspace.js';
import { loadKeyRecord, type KeyRecord } from '../state/key-record.js';

// The keys a workspace knows, from their public records.

export function listKeys(ws: Workspace): KeyRecord[] {
  ws.requireExists();
  let names: string[];
  try {
    names = readdirSync(ws.keysDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names.filter((f) => /^k[0-9a-f]{16}\.json$/.test(f)).sort().map((f) => loadKeyRecord(ws, f.slice(0, -5)));
}

export function showKey(ws: Workspace, keyId: string): KeyRecord {
  return loadKeyRecord(ws.requireExists(), keyId);
}
