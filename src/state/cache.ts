import { readFileSync } from 'node:fs';
import { canonicalPretty } from '../base/canonical.js';
import { replaceFile } from '../fs/atomic.js';
import type { Workspace } from '../fs/workspace.js';
import type { CustodyState } from './fold.js';
import type { KeyRecord } from './key-record.js';
import type { Roster } from './roster.js';

// The workspace's public caches of the fold: roster.json and keys/<keyId>.json, for people and
// scripts to read. keyrite writes them from the fold after every ceremony and never decides
// from them (docs/ARCHITECTURE.md, "The fold"); `audit verify` reports a cache that differs.

// Canonical key order, so the bytes depend only on the content, however the fold built it.
export function rosterBytes(r: Roster): string {
  return canonicalPretty(r);
}

export function keyRecordBytes(r: KeyRecord): string {
  return canonicalPretty(r);
}

function sameBytes(path: string, text: string): boolean {
  try {
    return readFileSync(path, 'utf8') === text;
  } catch {
    return false;
  }
}

function refresh(path: string, text: string): void {
  if (!sameBytes(path, text)) replaceFile(path, text);
}

/** Rewrites every cache that differs from the fold (after a crash, say, or an edit by hand). */
export function writeCaches(ws: Workspace, state: CustodyState): void {
  const roster = state.requireRoster();
  refresh(ws.rosterFile, rosterBytes(roster));
  if (state.keys.size) ws.mkdirs(ws.keysDir);
  for (const r of state.keys.values()) refresh(ws.keyFile(r.keyId), keyRecordBytes(r));
}
