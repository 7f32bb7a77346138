import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { decryptWithPassphrase, encryptWithPassphrase } from '../base/age.js';
import { sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { createFile, removeFile } from '../fs/atomic.js';
import { readBytes, readJson, type Workspace } from '../fs/workspace.js';
import { checkQuorum, openShare, rebuildAgeKey, type GuardianSet } from '../custody/guardian-share.js';
import { newIdentity, parseSecret, serializeSecret, type Identity } from '../custody/identity.js';
import { openReleased, type ReleasedShare } from '../custody/release.js';
import type { Sealed } from '../evidence/writer.js';
import type { PublicIdentity } from '../state/identity.js';
import { member } from '../state/roster.js';
import { checkSessionId, guardianShareAtHand, loadSet } from './guardians.js';
import type { Operator } from './kernel/operator.js';
import { checkIdentityTarget, writePersonIdentity } from './kernel/people.js';
import { withSession, type IdentityPaths, type Session } from './kernel/session.js';
import { gatherApprovals, recordApprovals } from './approve.js';
import { recordChange } from './roster-steps.js';

// Custodian recovery: k guardians' shares rebuild the custodian's age key (so their shards
// open again), and the custodian gets a new identity around it with a new Ed25519 key, since
// the old one is presumed lost. Two ways in: released shares for a one-off recipient (the
// guardians' identities never touch this laptop), or, for a drill, the guardians' own files.
// The start writes the session's one-off identity and request and records nothing. The finish
// records, in order: ceremony.start, the checklist confirmations, one approval per approver,
// recover.intent, recover.result, roster.change (rekey: the approvers, co-signed by the new
// key), ceremony.seal (the generator and the witness).

export interface RecoveryRequest {
  v: 1;
  kind: 'keyrite/recovery-request';
  session: string;
  custodian: string;
  setId: string;
  recipient: string; // one-off age recipient the guardians release to
}

interface Common {
  ws: Workspace;
  custodian: string;
  operator: Operator;
  logN: number;
  out?: string;
}

/** Who must be there to finish a recovery: the quorum that approves it and the witness who seals it. */
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

const requestFile = (ws: Workspace, session: string) => join(ws.recoveryDir(session), 'request.json');
const oneOffFile = (ws: Workspace, session: string) => join(ws.recoveryDir(session), 'one-off.identity.age');

/**
 * Step 1 of a recovery: a one-off identity for this session, locked under the custodian's new
 * passphrase. Guardians release their shares to its recipient.
 */
export function startRecovery(i: Common): Promise<RecoveryRequest> {
  return withSession({ ws: i.ws, operator: i.operator, label: `recover custodian ${i.custodian}` }, async (s) => {
    const set = loadSet(i.ws, s.state, i.custodian);
    const session = randomBytes(8).toString('hex');
    const passphrase = await i.operator.passphrase(i.custodian, 'new');
    const oneOff = await newIdentity(`recovery-${session.slice(0, 8)}`, 'custodian');
    const request: RecoveryRequest = { v: 1, kind: 'keyrite/recovery-request', session, custodian: i.custodian, setId: set.setId, recipient: oneOff.recipient };
    i.ws.mkdirs(i.ws.recoveryDir(session));
    createFile(oneOffFile(i.ws, session), await encryptWithPassphrase(serializeSecret(oneOff), passphrase, i.logN));
    createFile(requestFile(i.ws, session), JSON.stringify(request, null, 2) + '\n', 0o644);
    return request;
  });
}

/** Step 2: k released shares, opened with the session's one-off identity. */
export function completeRecovery(i: Common & Quorum & { session: string; released: Map<string, string> }): Promise<RecoveryResult> {
  checkSessionId(i.session);
  return withSession({ ws: i.ws, operator: i.operator, label: `recover custodian ${i.custodian}` }, async (s) => {
    const set = loadSet(i.ws, s.state, i.custodian);
    const request = readJson<RecoveryRequest>(requestFile(i.ws, i.session), `recovery session ${i.session}`);
    if (request.custodian !== i.custodian || request.setId !== set.setId) {
      throw new KeyriteError('WRONG_SESSION', `recovery session ${i.session} is for ${request.custodian}'s set ${request.setId.slice(0, 8)}…, not ${i.custodian}'s current set`);
    }
    checkQuorum(set, [...i.released.keys()]);
    const target = checkTarget(i);
    const people = await unlockQuorum(s, i);
    const passphrase = await i.operator.passphrase(i.custodian, 'unlock');
    const oneOffPath = oneOffFile(i.ws, i.session);
    const oneOff = await parseSecret(await decryptWithPassphrase(readBytes(oneOffPath, `the one-off identity of session ${i.session}`), passphrase, `the one-off identity of session ${i.session} (it was locked with ${i.custodian}'s new passphrase)`), oneOffPath);
    const shares = [];
    for (const [guardian, path] of i.released) {
      const released = readJson<ReleasedShare>(path, `the released share of ${guardian}`);
      const share = await openReleased(released, oneOff, i.session, set, member(s.roster, guardian, 'guardian'), `the released share of ${guardian} (${path})`);
      shares.push({ guardian, share });
    }
    const result = await finish(s, i, people, set, shares, passphrase, target);
    // The one-off key has done its job; the released shares it opens are useless without it.
    removeFile(oneOffPath);
    return result;
  });
}

/** A drill on one laptop: each guardian's share file and passphrase. */
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
    return finish(s, i, people, set, shares, passphrase, target);
  });
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
async function unlockQuorum(s: Session, i: Common & Quorum): Promise<People> {
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

async function finish(
  s: Session,
  i: Common,
  people: People,
  set: GuardianSet,
  shares: { guardian: string; share: Uint8Array }[],
  passphrase: string,
  dir: string,
): Promise<RecoveryResult> {
  const ageIdentity = await rebuildAgeKey(set, shares);
  for (const s of shares) s.share.fill(0);
  const id: Identity = await newIdentity(i.custodian, 'custodian', ageIdentity);
  const guardians = shares.map((s) => s.guardian);
  const { generator, approvers, witness } = people;
  const opening = { script: 'recover-custodian', actor: generator, params: { custodian: i.custodian, setId: set.setId } };
  for (const step of ['ceremony.start', 'recover.intent', 'roster.change']) await s.checklist(opening.script, step);
  return s.run(opening, async (c) => {
    const approved = gatherApprovals(s, 'recover-custodian', { target: i.custodian, parameters: { setId: set.setId } }, { inRoom: approvers });
    await recordApprovals(s, c, approved.approvals);
    await c.record({ step: 'recover.intent', actor: generator, params: { target: i.custodian, setId: set.setId, guardians, request: approved.digest } });
    const written = await i.operator.progress(`Locking ${i.custodian}'s new identity (scrypt)`, () => writePersonIdentity(i.ws, id, passphrase, i.logN, dir));
    await c.record({
      step: 'recover.result',
      actor: generator,
      subjects: [{ name: i.ws.relative(i.ws.publicIdentityFile(i.custodian)), sha256: sha256Hex(readBytes(i.ws.publicIdentityFile(i.custodian))) }],
      params: { target: i.custodian, guardians },
      result: { recipient: written.pub.recipient, fingerprint: written.pub.fingerprint },
    });
    // The new signing key enters the roster under the approvers' quorum, co-signed by the new key itself.
    await recordChange(c, { op: 'rekey', name: i.custodian, identity: written.pub }, { approvers, witness, holder: id });
    return { custodian: i.custodian, file: written.file, pub: written.pub, guardians };
  }, [witness]);
}
