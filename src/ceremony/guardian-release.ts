import { join } from 'node:path';
import { isRecipient } from '../base/age.js';
import { KeyriteError } from '../base/errors.js';
import { pgpWords } from '../base/pgpwords.js';
import { createFile } from '../fs/atomic.js';
import type { Workspace } from '../fs/workspace.js';
import { releaseShare } from '../custody/release.js';
import { loadState } from '../audit/state.js';
import { requireSealed } from '../state/roster.js';
import { checkSessionId, guardianShareAtHand, recordedSession } from './guardians.js';
import type { Operator } from './kernel/operator.js';
import { Session } from './kernel/session.js';

// guardian release, on the guardian's own device, from the copy of the workspace's public files
// the guardian holds (CEREMONY.md, "Guardian"). The session is looked up in the custody state
// folded from that transcript: it must be recorded by a sealed recover-start ceremony and not
// finished, and --to must be its recorded one-off recipient, whose fingerprint the guardian
// compares by voice before confirming. Then the share is opened and re-encrypted to that
// recipient, and the signed release file is the only thing written: no transcript entry and no
// ceremony here, so the guardian's copy of the history never forks from the workspace's. The
// recovery ceremony records the release when it uses it (recover-custodian.ts).

export interface ReleaseInput {
  ws: Workspace;
  guardian: string;
  custodian: string;
  session: string;
  to: string;
  sharePath?: string;
  identityPath?: string;
  out?: string;
  operator: Operator;
}

export interface Release {
  path: string;
  index: number;
  recipient: string;
  fingerprint: string;
  words: string;
}

export function releasedFileName(guardian: string, session: string): string {
  return `${guardian}.release-${session}.json`;
}

export async function releaseGuardianShare(i: ReleaseInput): Promise<Release> {
  if (!isRecipient(i.to)) throw new KeyriteError('BAD_RECIPIENT', `"${i.to}" is not an age X25519 recipient (age1…)`);
  checkSessionId(i.session);
  const state = await loadState(i.ws);
  requireSealed(state.requireRoster());
  const { session, set } = recordedSession(i.ws, state, i.session, i.custodian);
  if (i.to !== session.recipient) {
    throw new KeyriteError('WRONG_RECIPIENT', `recovery session ${i.session} recorded the one-off recipient ${session.recipient}, not ${i.to}; nothing was released`);
  }
  const dir = i.out ?? i.ws.holdingsDir(i.guardian);
  const out = join(dir, releasedFileName(i.guardian, i.session));
  const words = pgpWords(session.fingerprint);
  // Confirmed here, never recorded: this device writes no evidence (the finish records the release).
  const s = new Session(i.ws, i.operator, state);
  await s.confirm(`Release ${i.guardian}'s share of ${i.custodian}'s key to recovery session ${i.session}, one-off recipient ${session.recipient}, fingerprint ${session.fingerprint} (${words})? Compare the fingerprint by voice with the recovery operator and the witness first.`);
  const { envelope, guardian, what } = await guardianShareAtHand(s, set, i.guardian, { share: i.sharePath, identity: i.identityPath });
  const released = await releaseShare(envelope, guardian, i.session, session.recipient, what);
  i.ws.mkdirs(dir);
  createFile(out, JSON.stringify(released, null, 2) + '\n');
  return { path: out, index: envelope.index, recipient: session.recipient, fingerprint: session.fingerprint, words };
}
