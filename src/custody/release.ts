import { KeyriteError } from '../base/errors.js';
import { decryptWith, encryptTo } from '../base/age.js';
import { body, checkCommitment, openShare, verifyEnvelope, type GuardianSet, type ShareEnvelope } from './guardian-share.js';
import type { Identity } from './identity.js';
import type { PublicIdentity } from '../state/identity.js';
import { signObject, verifyObject } from '../base/ed25519.js';

// A guardian releases their share on their own device: it is opened there and re-encrypted
// to the recovery session's one-off recipient, so the guardian's identity never touches the
// recovery laptop. The release carries the original envelope (proof of the set and index)
// and the guardian's signature over all of it (proof of who released it, for which session).

export interface ReleasedShare {
  v: 1;
  kind: 'keyrite/released-share';
  session: string;
  to: string; // the one-off age recipient of the recovery session
  envelope: ShareEnvelope;
  share: string; // armored age ciphertext of the share bytes, to `to`
  sig: string; // the guardian's Ed25519 signature over the rest
}

export async function releaseShare(e: ShareEnvelope, guardian: Identity, session: string, to: string, what: string): Promise<ReleasedShare> {
  const share = await openShare(e, guardian, what);
  const rest = {
    v: 1 as const,
    kind: 'keyrite/released-share' as const,
    session,
    to,
    envelope: e,
    share: Buffer.from(await encryptTo([to], share, true)).toString('utf8'),
  };
  share.fill(0);
  return { ...rest, sig: signObject(guardian.signing, rest) };
}

/** Checks a released share end to end and returns the share bytes. */
export async function openReleased(
  r: ReleasedShare,
  oneOff: Identity,
  session: string,
  set: GuardianSet,
  guardian: PublicIdentity,
  what: string,
): Promise<Uint8Array> {
  if (r?.kind !== 'keyrite/released-share' || !r.envelope) throw new KeyriteError('DAMAGED_FILE', `${what} is not a released guardian share`);
  if (r.envelope.guardian !== guardian.name) {
    throw new KeyriteError('WRONG_GUARDIAN', `${what} was given for ${guardian.name} but holds ${r.envelope.guardian}'s share`);
  }
  if (!verifyObject(guardian.signingKey, body(r), r.sig)) {
    throw new KeyriteError('BAD_SIGNATURE', `${what} is not signed by guardian ${guardian.name}: it was altered or forged`);
  }
  if (r.session !== session || r.to !== oneOff.recipient) {
    throw new KeyriteError('WRONG_SESSION', `${what} was released for another recovery session (${r.session}), not ${session}`);
  }
  verifyEnvelope(r.envelope, set, what);
  const share = await decryptWith(oneOff.ageIdentity, Buffer.from(r.share, 'utf8'), what);
  return checkCommitment(r.envelope, share, what);
}
