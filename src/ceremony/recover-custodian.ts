import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { decryptWithPassphrase, encryptWithPassphrase } from '../base/age.js';
import { sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { pgpWords } from '../base/pgpwords.js';
import { createFile, removeFile } from '../fs/atomic.js';
import { readBytes, readJson, type Workspace } from '../fs/workspace.js';
import { checkQuorum, openShare, rebuildAgeKey, type GuardianSet } from '../custody/guardian-share.js';
import { newIdentity, parseSecret, serializeSecret, type Identity } from '../custody/identity.js';
import { openReleased, releaseStatementOf, type ReleasedShare } from '../custody/release.js';
import type { Ceremony, Sealed } from '../evidence/writer.js';
import type { PublicIdentity } from '../state/identity.js';
import { checkRelease, recipientFingerprint, type ReleaseStatement } from '../state/recovery.js';
import { guardianShareAtHand, loadSet, recordedSession } from './guardians.js';
import type { Operator } from './kernel/operator.js';
import { checkIdentityTarget, writePersonIdentity } from './kernel/people.js';
import { withSession, type IdentityPaths, type Session } from './kernel/session.js';
import { gatherApprovals, recordApprovals, takeApprovals, writeRequest, type ActInput, type WrittenRequest } from './approve.js';
import { recordChange } from './roster-steps.js';

// Custodian recovery (CEREMONY.md, "Custodian recovery"): k guardians' shares rebuild the
// custodian's age key (so their shards open again), and the custodian gets a new identity
// around it with a new Ed25519 key, since the old one is presumed lost.
//
// From released shares, in two ceremonies:
//  - the start (script recover-start), run by the generator: ceremony.start, the confirmations,
//    one approval per approver (never the custodian recovered), recover.start (session id,
//    custodian, guardian set, one-off recipient and its fingerprint), ceremony.seal (generator
//    and witness). Its approvals are what authorise exposing the age key; the one-off identity
//    is written locked under the custodian's new passphrase.
//  - the finish (script recover-custodian), once k guardians released on their own devices:
//    ceremony.start, the confirmations, one recover.release per release used (the guardian's
//    signed statement), recover.intent, recover.result, roster.change (rekey, signed by the
//    approvers and the new key), ceremony.seal (generator and witness). No approvals: the
//    start's were consumed by the act they authorised; the approvers sign the roster change.
// As a drill on one laptop, with the guardians' own files, in one ceremony (recover-custodian):
//    ceremony.start, the confirmations, the approvals, recover.drill, recover.result,
//    roster.change, ceremony.seal.

export interface RecoveryRequest {
  session: string;
  custodian: string;
  setId: string;
  recipient: string; // one-off age recipient the guardians release to
  fingerprint: string; // recipientFingerprint: read aloud to each guardian
  words: string;
  sealed: Sealed;
  ceremony: string;
}

interface Common {
  ws: Workspace;
  custodian: string;
  operator: Operator;
  logN: number;
  out?: string;
}

/** Who must be there: the approvers (the policy's quorum) and the witness who seals, with the generator. */
interface Quorum {
  approvers: string[];
  witness?: string;
  identities: IdentityPaths; // NAME → identity file, where not at the standard path
}

export interface RecoveryResult {
  custodian: string;
  file: string;
  pub: PublicIdentity;
  guardians: string[];
  sealed: Sealed;
  ceremony: string;
}

const oneOffFile = (ws: Workspace, session: string) => join(ws.recoveryDir(session), 'one-off.identity.age');

/** The start: approved by the quorum, witnessed, recording the session and its one-off recipient. */
export function startRecovery(i: Omit<Common, 'out'> & Quorum & { approvals?: string[] }): Promise<RecoveryRequest> {
  return withSession({ ws: i.ws, operator: i.operator, label: `recover custodian ${i.custodian}` }, async (s) => {
    const set = loadSet(i.ws, s.state, i.custodian);
    if (i.approvers.includes(i.custodian)) throw new KeyriteError('NOT_PERMITTED', `${i.custodian} cannot approve their own recovery`);
    // The start's approvals may come from files signed on the approvers' own devices (requestRecovery) or in the room.
    const gathered = await takeApprovals(s, START, startAct(set), { ...i, approvals: i.approvals ?? [] }, `starting ${i.custodian}'s recovery`);
    const generator = await s.unlockSole('generator', { identities: i.identities });
    const witness = await s.unlockSole('witness', { name: i.witness, identities: i.identities });
    const passphrase = await i.operator.passphrase(i.custodian, 'new');
    const session = randomBytes(8).toString('hex');
    const oneOff = await newIdentity(`recovery-${session.slice(0, 8)}`, 'custodian');
    const fingerprint = recipientFingerprint(session, i.custodian, oneOff.recipient);
    const locked = await encryptWithPassphrase(serializeSecret(oneOff), passphrase, i.logN);
    const opening = { script: START, actor: generator, params: { custodian: i.custodian, setId: set.setId } };
    await s.checklist(opening.script, 'recover.start', `session ${session}, fingerprint ${fingerprint}`);
    return s.run(opening, async (c) => {
      await recordApprovals(s, c, gathered.approvals);
      await c.record({ step: 'recover.start', actor: generator, params: { target: i.custodian, session, setId: set.setId, recipient: oneOff.recipient, fingerprint, request: gathered.digest } });
      i.ws.mkdirs(i.ws.recoveryDir(session));
      createFile(oneOffFile(i.ws, session), locked);
      return { session, custodian: i.custodian, setId: set.setId, recipient: oneOff.recipient, fingerprint, words: pgpWords(fingerprint) };
    }, [witness]);
  });
}

const START = 'recover-start';

/** What the start's approvers approve: recovering the custodian of this guardian set. */
const startAct = (set: GuardianSet): ActInput => ({ target: set.custodian, parameters: { setId: set.setId } });

/** `recover custodian --request-out`: the start's request, written for the approvers' own devices; nothing recorded. */
export function requestRecovery(i: { ws: Workspace; custodian: string; operator: Operator; out: string; ttlMs: number }): Promise<WrittenRequest> {
  return withSession({ ws: i.ws, operator: i.operator, label: `request recovering ${i.custodian}` }, async (s) => writeRequest(s, START, startAct(loadSet(i.ws, s.state, i.custodian)), { out: i.out, ttlMs: i.ttlMs }));
}

/** The finish: k released shares for the recorded session, opened with its one-off identity. */
export function completeRecovery(i: Common & Quorum & { session: string; released: Map<string, string> }): Promise<RecoveryResult> {
  return withSession({ ws: i.ws, operator: i.operator, label: `recover custodian ${i.custodian}` }, async (s) => {
    const { session, set } = recordedSession(i.ws, s.state, i.session, i.custodian);
    const releases: { guardian: string; file: ReleasedShare; statement: ReleaseStatement; what: string }[] = [];
    for (const [guardian, path] of i.released) {
      const what = `the released share of ${guardian} (${path})`;
      const file = readJson<ReleasedShare>(path, `the released share of ${guardian}`);
      const statement = checkRelease(releaseStatementOf(file, what), guardian, session, s.state.guardianSets.get(i.custodian), s.roster, what);
      releases.push({ guardian, file, statement, what });
    }
    checkQuorum(set, [...i.released.keys()]);
    const target = checkTarget(i);
    const people = await unlockQuorum(s, i);
    const passphrase = await i.operator.passphrase(i.custodian, 'unlock');
    const oneOffPath = oneOffFile(i.ws, i.session);
    const what = `the one-off identity of session ${i.session}`;
    const oneOff = await parseSecret(await decryptWithPassphrase(readBytes(oneOffPath, what), passphrase, `${what} (it was locked with ${i.custodian}'s new passphrase)`), oneOffPath);
    if (oneOff.recipient !== session.recipient) throw new KeyriteError('WRONG_RECIPIENT', `${oneOffPath} is not the one-off identity of session ${i.session}: its recipient is ${oneOff.recipient}, the session recorded ${session.recipient}`);
    const shares = [];
    for (const r of releases) shares.push({ guardian: r.guardian, share: await openReleased(r.file, oneOff, set, r.what) });
    const guardians = shares.map((x) => x.guardian);
    const result = await finish(s, i, people, set, shares, passphrase, target, async (c) => {
      for (const r of releases) {
        await c.record({ step: 'recover.release', actor: people.generator, params: { target: i.custodian, session: i.session, guardian: r.guardian, release: r.statement } });
      }
      await s.step(c, { step: 'recover.intent', actor: people.generator, params: { target: i.custodian, session: i.session, setId: set.setId, guardians } });
    }, { session: i.session });
    // The one-off key has done its job; the released shares it opens are useless without it.
    removeFile(oneOffPath);
    return result;
  });
}

/** A drill on one laptop: each guardian's share file and passphrase, approved and recorded as a drill. */
export function drillRecovery(i: Common & Quorum & { shares: Map<string, string> }): Promise<RecoveryResult> {
  return withSession({ ws: i.ws, operator: i.operator, label: `recover custodian ${i.custodian}` }, async (s) => {
    const set = loadSet(i.ws, s.state, i.custodian);
    checkQuorum(set, [...i.shares.keys()]);
    const target = checkTarget(i);
    const people = await unlockQuorum(s, i);
    const shares = [];
    for (const [guardian, path] of i.shares) {
      const held = await guardianShareAtHand(s, set, guardian, { share: path, identity: i.identities.get(guardian) });
      shares.push({ guardian, share: await openShare(held.envelope, held.guardian, held.what) });
    }
    const passphrase = await i.operator.passphrase(i.custodian, 'new');
    const guardians = shares.map((x) => x.guardian);
    return finish(s, i, people, set, shares, passphrase, target, async (c) => {
      const request = await approveRecovery(s, c, people.approvers, i.custodian, set.setId);
      await s.step(c, { step: 'recover.drill', actor: people.generator, params: { target: i.custodian, setId: set.setId, guardians, request } });
    });
  });
}

/**
 * The approvers' approvals of recovering `custodian`, one entry each, of one request made in the
 * room for this ceremony (src/ceremony/approve.ts): the one place recovery records them (the
 * start, and a drill). Returns the request's digest, which the act names so the fold counts them.
 */
async function approveRecovery(s: Session, c: Ceremony, approvers: Identity[], custodian: string, setId: string): Promise<string> {
  const approved = gatherApprovals(s, c.script.name, { target: custodian, parameters: { setId } }, { inRoom: approvers });
  await recordApprovals(s, c, approved.approvals);
  return approved.digest;
}

/** Where the new identity goes; refused before any work if something is already there. */
function checkTarget(i: Common): string {
  const dir = i.out ?? i.ws.holdingsDir(i.custodian);
  checkIdentityTarget(i.ws, i.custodian, dir);
  return dir;
}

interface People {
  generator: Identity;
  approvers: Identity[];
  witness: Identity;
}

/** The generator runs the ceremony, custodians other than the one recovered approve it, a witness seals it. */
async function unlockQuorum(s: Session, i: { custodian: string } & Quorum): Promise<People> {
  const needed = s.roster.policy.approvals;
  if (i.approvers.includes(i.custodian)) throw new KeyriteError('NOT_PERMITTED', `${i.custodian} cannot approve their own recovery`);
  if (i.approvers.length < needed) {
    throw new KeyriteError('QUORUM_NOT_MET', `${i.approvers.length} approver(s) named; recovering ${i.custodian} needs ${needed}`);
  }
  const generator = await s.unlockSole('generator', { identities: i.identities });
  const approvers = [];
  for (const a of i.approvers) approvers.push(await s.unlock(a, 'custodian', i.identities));
  const witness = await s.unlockSole('witness', { name: i.witness, identities: i.identities });
  return { generator, approvers, witness };
}

/**
 * What both ways in share once the shares are open: the key rebuilt (it must derive the
 * recipient on record), then the ceremony: `authorise` (the releases and the intent, or the
 * drill's approvals), the new identity and recover.result, the roster change, the seal.
 */
async function finish(
  s: Session,
  i: Common & Quorum,
  people: People,
  set: GuardianSet,
  shares: { guardian: string; share: Uint8Array }[],
  passphrase: string,
  dir: string,
  authorise: (c: Ceremony) => Promise<void>,
  recorded: { session?: string } = {},
): Promise<RecoveryResult> {
  const ageIdentity = await rebuildAgeKey(set, shares);
  for (const x of shares) x.share.fill(0);
  const id: Identity = await newIdentity(i.custodian, 'custodian', ageIdentity);
  const guardians = shares.map((x) => x.guardian);
  const { generator, approvers, witness } = people;
  const opening = { script: 'recover-custodian', actor: generator, params: { custodian: i.custodian, setId: set.setId, ...recorded } };
  for (const step of ['ceremony.start', 'roster.change']) await s.checklist(opening.script, step);
  return s.run(opening, async (c) => {
    await authorise(c);
    const written = await i.operator.progress(`Locking ${i.custodian}'s new identity (scrypt)`, () => writePersonIdentity(i.ws, id, passphrase, i.logN, dir));
    await c.record({
      step: 'recover.result',
      actor: generator,
      subjects: [{ name: i.ws.relative(i.ws.publicIdentityFile(i.custodian)), sha256: sha256Hex(readBytes(i.ws.publicIdentityFile(i.custodian))) }],
      params: { target: i.custodian, guardians, ...recorded },
      result: { recipient: written.pub.recipient, fingerprint: written.pub.fingerprint },
    });
    // The new signing key enters the roster under the approvers' quorum, co-signed by the new key itself.
    await recordChange(c, { op: 'rekey', name: i.custodian, identity: written.pub }, { approvers, witness, holder: id });
    return { custodian: i.custodian, file: written.file, pub: written.pub, guardians };
  }, [witness]);
}
