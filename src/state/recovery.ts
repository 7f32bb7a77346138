import { digestOf } from '../base/canonical.js';
import { verifyObject } from '../base/ed25519.js';
import { KeyriteError, shown } from '../base/errors.js';
import { findMember, type Roster } from './roster.js';

// Custodian recovery sessions as the fold keeps them (CEREMONY.md, "Custodian recovery"). A
// session exists only once a recover-start ceremony recorded it (`recover.start`: custodian,
// guardian set, one-off recipient and its fingerprint) under the approvers' quorum, and is open
// only once that ceremony is sealed (with the witness, as its script requires). A guardian
// releases only to an open session's recorded recipient; the finish records each release it
// uses (`recover.release`: the guardian's signed statement), and `recover.intent` needs k
// distinct ones of the recorded set, in the same ceremony; `recover.result` closes the session.

export const RELEASE_KIND = 'keyrite/guardian-release' as const;
/** The approvals a recovery start consumes (its script's `approvals.operation`). */
export const RECOVERY_OPERATION = 'recover-custodian';

/** What a guardian signs on their own device: exactly which share went to which recorded recipient. */
export interface ReleaseStatement {
  v: 1;
  kind: typeof RELEASE_KIND;
  session: string;
  custodian: string;
  setId: string;
  guardian: string;
  index: number;
  /** The session's one-off age recipient the share was re-encrypted to. */
  to: string;
  /** digestOf the guardian's share envelope (signed by the custodian). */
  envelope: string;
  /** sha256 of the released ciphertext. */
  share: string;
  /** The guardian's Ed25519 signature (hex) over the canonical JSON of the rest. */
  sig: string;
}

export interface RecoverySession {
  session: string;
  custodian: string;
  setId: string;
  recipient: string;
  fingerprint: string;
  /** The recover-start ceremony that recorded it. */
  ceremony: string;
  status: 'recorded' | 'open' | 'finished';
  /** The releases recorded by the ceremony finishing it (a retry after an abort starts afresh). */
  finishing?: { ceremony: string; releases: Map<string, string>; intended: boolean };
}

/** The part of a guardian set the checks need. */
export interface SetView {
  setId: string;
  k: number;
  guardians: string[];
}

/**
 * The fingerprint read aloud for a one-off recipient: it binds the session and the custodian
 * too, so the voice check also catches a recipient moved to another session.
 */
export function recipientFingerprint(session: string, custodian: string, recipient: string): string {
  return digestOf({ kind: 'keyrite/recovery-recipient', session, custodian, recipient }).slice(0, 40);
}

export const SESSION_ID = /^[0-9a-f]{16}$/;

/**
 * Checks a guardian's release statement, named as `guardian`'s, against the recorded session,
 * the custodian's set and the guardian's key in `roster`. The same check serves the finishing
 * ceremony (before anything is opened) and the fold (for every `recover.release`).
 */
export function checkRelease(st: unknown, guardian: string, s: RecoverySession, set: SetView | undefined, roster: Roster, what: string): ReleaseStatement {
  const r = st as Partial<ReleaseStatement> | null;
  const strings = ['session', 'custodian', 'setId', 'guardian', 'to', 'envelope', 'share', 'sig'] as const;
  if (typeof r !== 'object' || r === null || r.v !== 1 || r.kind !== RELEASE_KIND || !strings.every((k) => typeof r[k] === 'string') || !Number.isInteger(r.index)) {
    throw new KeyriteError('DAMAGED_FILE', `${what} is not a guardian's release statement`);
  }
  const x = r as ReleaseStatement;
  if (x.guardian !== guardian) throw new KeyriteError('WRONG_GUARDIAN', `${what} was given for ${guardian} but is ${x.guardian}'s release`);
  const g = findMember(roster, guardian);
  if (g?.role !== 'guardian') throw new KeyriteError('NOT_ENROLLED', `${what}: ${guardian} is not a guardian in roster version ${roster.version}`);
  const { sig, ...rest } = x;
  if (!verifyObject(g.signingKey, rest, sig)) throw new KeyriteError('BAD_SIGNATURE', `${what} is not signed by guardian ${guardian}: it was altered or forged`);
  if (x.custodian !== s.custodian) throw new KeyriteError('WRONG_CUSTODIAN', `${what} releases a share of ${x.custodian}'s key, not ${s.custodian}'s`);
  if (x.session !== s.session) throw new KeyriteError('WRONG_SESSION', `${what} was released for another recovery session (${x.session}), not ${s.session}`);
  if (x.to !== s.recipient) throw new KeyriteError('WRONG_RECIPIENT', `${what} was released to ${x.to}, not to session ${s.session}'s recorded one-off recipient ${s.recipient}`);
  if (x.setId !== s.setId || set?.setId !== s.setId) {
    throw new KeyriteError('WRONG_SET', `${what} is a release from guardian set ${x.setId.slice(0, 8)}…, but session ${s.session} recovers set ${s.setId.slice(0, 8)}…${set && set.setId !== s.setId ? `, and ${s.custodian}'s set on record is now ${set.setId.slice(0, 8)}…` : ''}`);
  }
  if (set.guardians[x.index - 1] !== guardian) throw new KeyriteError('WRONG_GUARDIAN', `${what}: ${guardian} does not hold share ${x.index} of ${s.custodian}'s set`);
  return x;
}

/** The recorded session `id` if it is open (recorded, sealed, not finished); else a refusal naming it. */
export function openSession(sessions: Map<string, RecoverySession>, id: string): RecoverySession {
  const s = sessions.get(id);
  if (!s || s.status !== 'open') {
    const why = !s ? 'no recovery session with this id is recorded in the transcript' : s.status === 'finished' ? 'it was finished already' : `its start ceremony ${s.ceremony} was never sealed`;
    throw new KeyriteError('SESSION_NOT_RECORDED', `recovery session ${id} is not open: ${why}`);
  }
  return s;
}

/** What the fold sees of the rest of the state, for one recovery entry. */
export interface RecoveryContext {
  ceremony: string;
  step: string;
  params: Record<string, unknown>;
  roster: Roster;
  sets: Map<string, SetView>;
  /** The approvals the entry consumes, when its script makes it a sensitive act (the fold's ledger has counted them: src/state/approvals.ts). */
  consumes: { operation: string } | undefined;
}

const STEPS = ['recover.start', 'recover.release', 'recover.intent', 'recover.result', 'ceremony.seal'];

/**
 * The change a recovery entry makes to `sessions`, to be committed with the rest of the entry's
 * change; undefined when it makes none. Throws a KeyriteError for an entry the fold refuses.
 */
export function prepareRecovery(sessions: Map<string, RecoverySession>, e: RecoveryContext): (() => void) | undefined {
  if (!STEPS.includes(e.step)) return undefined;
  const bad = (why: string) => new KeyriteError('BAD_CHANGE', `${e.step} in ${e.ceremony}: ${why}`);
  const p = e.params;
  if (e.step === 'ceremony.seal') {
    const started = [...sessions.values()].filter((s) => s.ceremony === e.ceremony && s.status === 'recorded');
    return started.length ? () => started.forEach((s) => sessions.set(s.session, { ...s, status: 'open' })) : undefined;
  }
  if (e.step === 'recover.start') {
    const next = startOf(sessions, e, bad);
    return () => sessions.set(next.session, next);
  }
  // A release recorded on a guardian's device by scripts before this one carries no statement, and counts for nothing.
  if (p.session === undefined || (e.step === 'recover.release' && p.release === undefined)) {
    // A drill, or a recovery approved at its intent (scripts before the start ceremony): no session.
    if (e.step === 'recover.intent' && !e.consumes) throw bad('names no recorded recovery session');
    return undefined;
  }
  const s = openSessionOr(sessions, p.session, bad);
  if (p.target !== s.custodian) throw bad(`target ${shown(p.target)} is not session ${s.session}'s custodian ${s.custodian}`);
  const here = s.finishing?.ceremony === e.ceremony ? s.finishing : { ceremony: e.ceremony, releases: new Map<string, string>(), intended: false };
  if (e.step === 'recover.release') {
    const guardian = shown(p.guardian);
    const st = checkRelease(p.release, guardian, s, e.sets.get(s.custodian), e.roster, `the release of ${guardian}`);
    if (here.intended) throw bad('a release after the intent');
    if (here.releases.has(guardian)) throw bad(`${guardian}'s release is recorded twice`);
    const releases = new Map(here.releases).set(guardian, digestOf(st));
    return () => sessions.set(s.session, { ...s, finishing: { ...here, releases } });
  }
  if (e.step === 'recover.intent') {
    const set = e.sets.get(s.custodian);
    const named = Array.isArray(p.guardians) ? p.guardians.map(shown) : [];
    const recorded = [...here.releases.keys()];
    if (here.intended) throw bad('a second intent');
    if (named.length !== recorded.length || !named.every((g) => here.releases.has(g))) throw bad(`guardians ${JSON.stringify(named)} are not the releases this ceremony recorded (${recorded.join(', ') || 'none'})`);
    if (!set || recorded.length < set.k) throw bad(`session ${s.session} needs ${set?.k ?? '?'} guardians' releases recorded before the intent; found ${recorded.length}`);
    return () => sessions.set(s.session, { ...s, finishing: { ...here, intended: true } });
  }
  // recover.result
  if (!here.intended) throw bad(`no recover.intent for session ${s.session} in this ceremony`);
  return () => sessions.set(s.session, { ...s, status: 'finished', finishing: undefined });
}

function openSessionOr(sessions: Map<string, RecoverySession>, id: unknown, bad: (why: string) => KeyriteError): RecoverySession {
  try {
    return openSession(sessions, shown(id));
  } catch (e) {
    throw bad((e as Error).message);
  }
}

/** A new session: its custodian's recorded set, a fresh id, a well-formed recipient, its fingerprint, and the approvals' quorum. */
function startOf(sessions: Map<string, RecoverySession>, e: RecoveryContext, bad: (why: string) => KeyriteError): RecoverySession {
  const p = e.params;
  const [session, custodian, setId, recipient] = [p.session, p.target, p.setId, p.recipient].map((v) => (typeof v === 'string' ? v : ''));
  if (!SESSION_ID.test(session!) || sessions.has(session!)) throw bad(`session ${shown(p.session)} is malformed or was used before`);
  if (findMember(e.roster, custodian!)?.role !== 'custodian') throw bad(`${shown(p.target)} is not a custodian in roster version ${e.roster.version}`);
  if (e.sets.get(custodian!)?.setId !== setId) throw bad(`set ${shown(p.setId)} is not ${custodian}'s guardian set on record`);
  if (!/^age1[0-9a-z]+$/.test(recipient!)) throw bad(`recipient ${shown(p.recipient)} is not an age recipient`);
  if (p.fingerprint !== recipientFingerprint(session!, custodian!, recipient!)) throw bad(`fingerprint ${shown(p.fingerprint)} is not the recipient's`);
  // A session is what lets guardians release, so it must not exist without the quorum: the
  // start consumes an approved request of this recovery, whose quorum, target and parameters
  // the fold's ledger has checked before this (approvalsOf in fold.ts).
  if (e.consumes?.operation !== RECOVERY_OPERATION) throw bad(`recovering ${custodian} needs the approvers' quorum of a ${RECOVERY_OPERATION} request before the start`);
  return { session: session!, custodian: custodian!, setId: setId!, recipient: recipient!, fingerprint: p.fingerprint as string, ceremony: e.ceremony, status: 'recorded' };
}
