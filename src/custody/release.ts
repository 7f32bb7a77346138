import { digestOf, sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { decryptWith, encryptTo } from '../base/age.js';
import { signObject } from '../base/ed25519.js';
import { checkCommitment, openShare, verifyEnvelope, type GuardianSet, type ShareEnvelope } from './guardian-share.js';
import type { Identity } from './identity.js';
import { RELEASE_KIND, type ReleaseStatement } from '../state/recovery.js';

// A guardian releases their share on their own device: it is opened there and re-encrypted to
// the recovery session's recorded one-off recipient, so the guardian's identity never touches
// the recovery laptop. The release file carries the original envelope (proof of the set and
// index), the ciphertext, and the guardian's signed statement naming the session, recipient,
// envelope and ciphertext by digest. The statement alone goes into the recovery transcript
// (src/state/recovery.ts checks it there, and the auditor offline); the ciphertext never does.

export interface ReleasedShare {
  v: 2;
  kind: 'keyrite/released-share';
  statement: ReleaseStatement;
  envelope: ShareEnvelope;
  share: string; // armored age ciphertext of the share bytes, to statement.to
}

/** Opens `e` with the guardian's identity and re-encrypts it to `to` for `session`, signed by the guardian. */
export async function releaseShare(e: ShareEnvelope, guardian: Identity, session: string, to: string, what: string): Promise<ReleasedShare> {
  const bytes = await openShare(e, guardian, what);
  const share = Buffer.from(await encryptTo([to], bytes, true)).toString('utf8');
  bytes.fill(0);
  const rest = {
    v: 1 as const, kind: RELEASE_KIND, session, custodian: e.custodian, setId: e.setId, guardian: e.guardian, index: e.index, to,
    envelope: digestOf(e), share: sha256Hex(share),
  };
  return { v: 2, kind: 'keyrite/released-share', statement: { ...rest, sig: signObject(guardian.signing, rest) }, envelope: e, share };
}

/**
 * The share bytes of a release whose statement was already checked against its session
 * (checkRelease): the envelope and ciphertext must be the ones the guardian signed, the envelope
 * the custodian's for the set, the share its commitment's.
 */
export async function openReleased(r: ReleasedShare, oneOff: Identity, set: GuardianSet, what: string): Promise<Uint8Array> {
  if (digestOf(r.envelope) !== r.statement.envelope || typeof r.share !== 'string' || sha256Hex(r.share) !== r.statement.share) {
    throw new KeyriteError('BAD_SIGNATURE', `${what}: its share or envelope is not the one guardian ${r.statement.guardian} signed; it was altered`);
  }
  verifyEnvelope(r.envelope, set, what);
  const share = await decryptWith(oneOff.ageIdentity, Buffer.from(r.share, 'utf8'), what);
  return checkCommitment(r.envelope, share, what);
}

/** A release file's statement, or a refusal naming the file. */
export function releaseStatementOf(r: unknown, what: string): unknown {
  const x = r as Partial<ReleasedShare> | null;
  if (typeof x !== 'object' || x === null || x.kind !== 'keyrite/released-share' || x.v !== 2 || !x.envelope) {
    throw new KeyriteError('DAMAGED_FILE', `${what} is not a released guardian share`);
  }
  return x.statement;
}
