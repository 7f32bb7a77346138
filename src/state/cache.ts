import { existsSync, readFileSync } from 'node:fs';
import { KeyriteError } from '../base/errors.js';
import { canonicalPretty, sha256Hex } from '../base/canonical.js';
import { replaceFile } from '../fs/atomic.js';
import type { Workspace } from '../fs/workspace.js';
import type { CustodyState } from './fold.js';
import type { KeyRecord } from './key-record.js';
import type { Roster } from './roster.js';

// The workspace's public caches of the fold: roster.json and keys/<keyId>.json, for people and
// scripts to read. keyrite writes them from the fold after every ceremony and never decides
// from them (docs/ARCHITECTURE.md, "The fold"). A cache that differs from the fold — edited, or
// swapped by someone who can write the workspace — is refused, not silently rewritten, so the
// sign of tampering stays for the operator to see; a missing one is simply written again, and so
// is one that holds the version just before the fold's latest change (a crash between an entry and the rewrite).

// Canonical key order, so the bytes depend only on the content, however the fold built it.
export function rosterBytes(r: Roster): string {
  return canonicalPretty(r);
}

export function keyRecordBytes(r: KeyRecord): string {
  return canonicalPretty(r);
}

/** The file's text, or null when there is none. */
function textOf(path: string): string | null {
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

/** Each cache with the bytes the fold gives it. */
function cachesOf(ws: Workspace, state: CustodyState): { name: string; path: string; text: string; code: 'ROSTER_MISMATCH' | 'KEY_RECORD_MISMATCH' }[] {
  return [
    { name: 'roster', path: ws.rosterFile, text: rosterBytes(state.requireRoster()), code: 'ROSTER_MISMATCH' as const },
    ...[...state.keys.values()].map((r) => ({ name: r.keyId, path: ws.keyFile(r.keyId), text: keyRecordBytes(r), code: 'KEY_RECORD_MISMATCH' as const })),
  ];
}

/** Refuses a workspace whose caches differ from what the transcript folds to, now or just before its latest change; a missing cache is fine. */
export function checkCaches(ws: Workspace, state: CustodyState): void {
  for (const c of cachesOf(ws, state)) {
    const text = textOf(c.path);
    if (text !== null && text !== c.text && state.formerCaches.get(c.name) !== sha256Hex(text)) {
      throw new KeyriteError(c.code, `${c.path} is not what the signed transcript says; keyrite decides from the transcript, uses nothing in this file, and will not overwrite it: compare it with the transcript, keep it as evidence elsewhere, then remove it so that keyrite writes it again`);
    }
  }
}

/** Writes every cache that is missing or behind the fold; called by the ceremony kernel after it checked them. */
export function writeCaches(ws: Workspace, state: CustodyState): void {
  if (state.keys.size) ws.mkdirs(ws.keysDir);
  for (const c of cachesOf(ws, state)) if (textOf(c.path) !== c.text) replaceFile(c.path, c.text);
}
