import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonical } from '../../src/base/canonical.js';
import type { Identity } from '../../src/custody/identity.js';
import { lineDigest, nextCeremonyId, TRANSCRIPT_EXT } from '../../src/evidence/chain.js';
import { entryStatement, signStatement } from '../../src/evidence/entry.js';
import { foldEntryOf } from '../../src/evidence/fold-entry.js';
import { loadScript } from '../../src/evidence/script.js';
import type { Workspace } from '../../src/fs/workspace.js';
import { apply, type CustodyState } from '../../src/state/fold.js';

// Crafted ceremonies for the tests that play an attacker holding real keys: each line signed by
// the keys it names and chained after the history's head, as a forger would write them.

export interface ForgedLine {
  step: string;
  signers: Identity[]; // the actor first
  params: Record<string, unknown>;
}

/**
 * Appends a ceremony of `script` made of `lines` after `state`'s head and folds each into
 * `state` (an entry the fold refuses leaves it as it was, so the verifier's verdict is the
 * test's); returns the ceremony id.
 */
export function appendForged(ws: Workspace, state: CustodyState, script: string, lines: ForgedLine[]): string {
  const s = loadScript(script);
  const id = nextCeremonyId(ws.transcriptsDir, script);
  const file = join(ws.transcriptsDir, id + TRANSCRIPT_EXT);
  let prev = state.head;
  lines.forEach((l, seq) => {
    const draft = { ceremony: id, seq, prev, roster: state.rosterDigest, script: s.digest };
    const statement = entryStatement(draft, l.signers[0]!.name, { step: l.step, params: l.params });
    const line = canonical(signStatement(statement, l.signers));
    appendFileSync(file, line + '\n');
    prev = lineDigest(line);
    try {
      apply(state, foldEntryOf(statement, s));
    } catch {
      // a crafted entry the fold refuses leaves the state as it was
    }
    state.chained(prev);
  });
  return id;
}
