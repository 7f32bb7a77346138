import { KeyriteError } from '../base/errors.js';
import { sha256Hex } from '../base/canonical.js';
import { jsonOf, readBytes, readJson, type Workspace } from '../fs/workspace.js';
import { shareRoleName, verifyEnvelope, verifySet, type GuardianSet, type ShareEnvelope } from '../custody/guardian-share.js';
import type { Identity } from '../custody/identity.js';
import type { CustodyState } from '../state/fold.js';
import type { PublicIdentity } from '../state/identity.js';
import { openSession, SESSION_ID, type RecoverySession } from '../state/recovery.js';
import { member } from '../state/roster.js';
import type { Session } from './kernel/session.js';

// Guardian sets and share envelopes from disk, each checked against the custody state: a set
// file counts only if it is the one the transcript recorded for the custodian (its digest),
// and only if the custodian signed it.

/** A recovery session id is 16 hex digits; anything else is refused before it names a path. */
export function checkSessionId(session: string): string {
  if (typeof session !== 'string' || !SESSION_ID.test(session)) throw new KeyriteError('BAD_SESSION', `${JSON.stringify(session)} is not a recovery session id (16 hex digits)`);
  return session;
}

/**
 * The open recovery session `id`, as the transcript recorded it, for `custodian`, and the
 * custodian's guardian set, which must still be the one the session recovers.
 */
export function recordedSession(ws: Workspace, state: CustodyState, id: string, custodian: string): { session: RecoverySession; set: GuardianSet } {
  const session = openSession(state.recoveries, checkSessionId(id));
  if (session.custodian !== custodian) throw new KeyriteError('WRONG_SESSION', `recovery session ${id} recovers ${session.custodian}, not ${custodian}`);
  const set = loadSet(ws, state, custodian);
  if (set.setId !== session.setId) {
    throw new KeyriteError('WRONG_SET', `recovery session ${id} recovers ${custodian}'s guardian set ${session.setId.slice(0, 8)}…, but the set on record is now ${set.setId.slice(0, 8)}…; start a new session`);
  }
  return { session, set };
}

export function loadSet(ws: Workspace, state: CustodyState, custodian: string): GuardianSet {
  member(state.requireRoster(), custodian, 'custodian');
  const path = ws.guardianSetFile(custodian);
  const recorded = state.guardianSets.get(custodian);
  const onRecord = state.artifacts.get(ws.relative(path));
  if (!recorded || !onRecord) throw new KeyriteError('NOT_FOUND', `${custodian} has no guardian set on record; set one up with custodian setup first`);
  if (sha256Hex(readBytes(path, `${custodian}'s guardian set`)) !== onRecord.sha256) {
    throw new KeyriteError('DAMAGED_FILE', `${custodian}'s guardian set (${path}) is not the one the transcript records; it was changed or replaced`);
  }
  const set = readJson<GuardianSet>(path, `${custodian}'s guardian set`);
  // Signed by the key the custodian held when the set was recorded, and no other: a key replaced
  // since (in a recovery) still vouches for the sets it signed then, never for a later one.
  if (set?.signingKey !== recorded.signingKey) {
    throw new KeyriteError('BAD_SIGNATURE', `${custodian}'s guardian set (${path}) is signed with a key ${custodian} did not hold when the set was recorded (roster version ${recorded.rosterVersion})`);
  }
  verifySet(set, custodian, [recorded.signingKey], path);
  if (set.setId !== recorded.setId) throw new KeyriteError('DAMAGED_FILE', `${custodian}'s guardian set (${path}) is set ${set.setId}, but the transcript records ${recorded.setId}`);
  // It splits the custodian's own age key: the one whose recipient the roster in force holds.
  const onRoster = member(state.requireRoster(), custodian, 'custodian').recipient;
  if (set.recipient !== onRoster) {
    throw new KeyriteError('WRONG_CUSTODIAN', `${custodian}'s guardian set (${path}) splits the age key of ${set.recipient}, not ${custodian}'s recipient on record (${onRoster}); it is not ${custodian}'s set`);
  }
  return set;
}

export interface GuardianShareAtHand {
  envelope: ShareEnvelope;
  guardian: Identity;
  path: string;
  what: string; // names the share file in errors
  sha256: string; // of the file: the digest custodian setup recorded for the share
}

/**
 * A guardian's share file, checked against the custodian's current set and against the digest
 * the transcript records for its place (keyrite:share/<guardian>/<setId>), and the guardian's
 * unlocked identity that opens it. Files are checked before anyone is asked for a passphrase.
 */
export async function guardianShareAtHand(s: Session, set: GuardianSet, guardian: string, paths: { share?: string; identity?: string }): Promise<GuardianShareAtHand> {
  const path = paths.share ?? s.ws.guardianShareFile(guardian, set.custodian);
  const what = `the guardian share of ${guardian} (${path})`;
  const bytes = readBytes(path, `the guardian share of ${guardian}`);
  const envelope = jsonOf<ShareEnvelope>(bytes, path, `the guardian share of ${guardian}`);
  // A share of a set a rotation retired is signed by the custodian's old key: say what it is before its signature fails.
  const retired = s.state.retiredIdentities.get(set.custodian)?.find((x) => x.setId !== undefined && x.setId === envelope?.setId);
  if (retired) {
    throw new KeyriteError('WRONG_SET', `${what} belongs to ${set.custodian}'s guardian set ${retired.setId!.slice(0, 8)}…, which rotation ${retired.ceremony} retired; it rebuilds only the age key ${set.custodian} no longer uses: destroy it`);
  }
  verifyEnvelope(envelope, set, what);
  const sha256 = sha256Hex(bytes);
  const onRecord = s.state.artifacts.get(shareRoleName(envelope.guardian, set.setId));
  if (onRecord?.sha256 !== sha256) {
    throw new KeyriteError('DAMAGED_FILE', `${what} is not the file custodian setup recorded for ${envelope.guardian}'s place in set ${set.setId.slice(0, 8)}…; it was altered or rewritten`);
  }
  const id = await s.unlock(guardian, 'guardian', paths.identity ? new Map([[guardian, paths.identity]]) : undefined);
  return { envelope, guardian: id, path, what, sha256 };
}

/** Separation of duties: guardians are enrolled as guardians and serve exactly one custodian. */
export function checkGuardians(state: CustodyState, custodian: string, guardians: string[]): PublicIdentity[] {
  const served = state.servedBy();
  return guardians.map((g) => {
    const pub = member(state.requireRoster(), g, 'guardian');
    const other = served.get(g);
    if (other && other !== custodian) {
      throw new KeyriteError('GUARDIAN_TAKEN', `${g} already serves ${other} as guardian; a guardian serves one custodian only`);
    }
    return pub;
  });
}
