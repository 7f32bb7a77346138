import { randomBytes } from 'node:crypto';
import { bech32 } from '@scure/base';
import { combine, split } from 'shamir-secret-sharing';
import { hex, sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { decryptWith, encryptTo, recipientOf } from '../base/age.js';
import type { Identity } from './identity.js';
import type { PublicIdentity } from '../state/identity.js';
import { signObject, verifyObject } from '../base/ed25519.js';

// A custodian's age key, split k-of-m among guardians. Only the age key: the Ed25519 key is
// never split, so guardians together can rebuild decryption but can never approve or sign
// as the custodian. Each share travels in an envelope signed by the custodian and commits to
// the share bytes, so a wrong share is named instead of silently yielding a wrong key.

export interface ShareEnvelopeBody {
  v: 1;
  kind: 'keyrite/guardian-share';
  setId: string;
  custodian: string;
  recipient: string; // the custodian's age recipient: the rebuilt key must derive it
  signingKey: string; // the custodian's Ed25519 key that signs this envelope
  guardian: string;
  index: number; // 1..m
  k: number;
  m: number;
  commitment: string; // sha256(setId ‖ share), hex
  share: string; // armored age ciphertext of the share bytes, to the guardian
}

export interface ShareEnvelope extends ShareEnvelopeBody {
  sig: string; // the custodian's Ed25519 signature over the canonical body
}

export interface GuardianSet {
  v: 1;
  kind: 'keyrite/guardian-set';
  setId: string;
  custodian: string;
  recipient: string;
  signingKey: string; // the custodian's Ed25519 key that signs the set and its envelopes
  k: number;
  m: number;
  guardians: { name: string; index: number; envelope: string /* sha256 of the envelope file */ }[];
  sig: string;
}

// How the transcript names a guardian's share: by its role (docs/ARCHITECTURE.md §6, "Artifacts").
export { shareRoleName } from '../state/artifacts.js';

function commitment(setId: string, share: Uint8Array): string {
  return sha256Hex(Buffer.concat([Buffer.from(`keyrite guardian share ${setId}\n`), share]));
}

export function ageKeyBytes(ageIdentity: string): Uint8Array {
  const { prefix, bytes } = bech32.decodeToBytes(ageIdentity);
  if (prefix.toUpperCase() !== 'AGE-SECRET-KEY-' || bytes.length !== 32) throw new Error('not an X25519 age identity');
  return bytes;
}

export function ageIdentityOf(bytes: Uint8Array): string {
  return bech32.encodeFromBytes('AGE-SECRET-KEY-', bytes).toUpperCase();
}

export function envelopeBytes(e: ShareEnvelope): Buffer {
  return Buffer.from(JSON.stringify(e, null, 2) + '\n', 'utf8');
}

/** Splits the custodian's age key into one signed envelope per guardian, in the given order. */
export async function splitAgeKey(
  custodian: Identity,
  guardians: PublicIdentity[],
  k: number,
): Promise<{ set: GuardianSet; envelopes: ShareEnvelope[] }> {
  const setId = hex(randomBytes(16));
  const shares = await split(ageKeyBytes(custodian.ageIdentity), guardians.length, k);
  const envelopes: ShareEnvelope[] = [];
  for (const [i, g] of guardians.entries()) {
    const share = shares[i]!;
    const body: ShareEnvelopeBody = {
      v: 1,
      kind: 'keyrite/guardian-share',
      setId,
      custodian: custodian.name,
      recipient: custodian.recipient,
      signingKey: custodian.signing.publicKey,
      guardian: g.name,
      index: i + 1,
      k,
      m: guardians.length,
      commitment: commitment(setId, share),
      share: Buffer.from(await encryptTo([g.recipient], share, true)).toString('utf8'),
    };
    envelopes.push({ ...body, sig: signObject(custodian.signing, body) });
    share.fill(0);
  }
  const setBody = {
    v: 1 as const,
    kind: 'keyrite/guardian-set' as const,
    setId,
    custodian: custodian.name,
    recipient: custodian.recipient,
    signingKey: custodian.signing.publicKey,
    k,
    m: guardians.length,
    guardians: envelopes.map((e) => ({ name: e.guardian, index: e.index, envelope: sha256Hex(envelopeBytes(e)) })),
  };
  return { set: { ...setBody, sig: signObject(custodian.signing, setBody) }, envelopes };
}

export function body<T extends { sig: string }>(x: T): Omit<T, 'sig'> {
  const { sig: _sig, ...rest } = x;
  return rest;
}

/**
 * Checks the set is the custodian's, signed by one of `custodianKeys`: the key the custodian held
 * when the set was recorded (it stays valid for that set after a recovery replaces it, since the
 * age key, and so the set, is unchanged).
 */
export function verifySet(set: GuardianSet, custodian: string, custodianKeys: string[], what: string): void {
  if (set?.kind !== 'keyrite/guardian-set' || set.custodian !== custodian || !custodianKeys.includes(set.signingKey) || !verifyObject(set.signingKey, body(set), set.sig)) {
    throw new KeyriteError('BAD_SIGNATURE', `${what} is not a guardian set signed by ${custodian}`);
  }
}

const ENVELOPE_STRINGS = ['setId', 'custodian', 'recipient', 'signingKey', 'guardian', 'commitment', 'share', 'sig'] as const;

/** Every field of an envelope of the type it has: a file signed with other types (or none) is not one, whoever signed it. */
function isEnvelopeShape(e: ShareEnvelope): boolean {
  return ENVELOPE_STRINGS.every((k) => typeof e[k] === 'string') && [e.index, e.k, e.m].every((n) => Number.isSafeInteger(n));
}

/**
 * Checks that an envelope is signed by the custodian and belongs to the current set at the
 * guardian's place in it. `what` names the file for the operator.
 */
export function verifyEnvelope(e: ShareEnvelope, set: GuardianSet, what: string): void {
  if (e?.kind !== 'keyrite/guardian-share' || !isEnvelopeShape(e)) {
    throw new KeyriteError('DAMAGED_FILE', `${what} is not a keyrite guardian share`);
  }
  if (e.custodian !== set.custodian) {
    throw new KeyriteError('WRONG_CUSTODIAN', `${what} is a share of ${e.custodian}'s key, not ${set.custodian}'s`);
  }
  if (e.signingKey !== set.signingKey || !verifyObject(set.signingKey, body(e), e.sig)) {
    throw new KeyriteError('BAD_SIGNATURE', `${what} is not signed by ${set.custodian}: it was altered or forged`);
  }
  if (e.setId !== set.setId) {
    throw new KeyriteError('WRONG_SET', `${what} belongs to another guardian set (${e.setId.slice(0, 8)}…), not the current one (${set.setId.slice(0, 8)}…)`);
  }
  const place = set.guardians.find((g) => g.index === e.index);
  if (!place || place.name !== e.guardian || e.k !== set.k || e.m !== set.m || e.recipient !== set.recipient) {
    throw new KeyriteError('WRONG_SET', `${what} does not match its place in ${set.custodian}'s guardian set`);
  }
}

/** Opens a share with the guardian's identity and checks it against the envelope's commitment. */
export async function openShare(e: ShareEnvelope, guardian: Identity, what: string): Promise<Uint8Array> {
  if (e.guardian !== guardian.name) {
    throw new KeyriteError('WRONG_GUARDIAN', `${what} is ${e.guardian}'s share, not ${guardian.name}'s`);
  }
  return checkCommitment(e, await decryptWith(guardian.ageIdentity, Buffer.from(e.share, 'utf8'), what), what);
}

export function checkCommitment(e: ShareEnvelopeBody, share: Uint8Array, what: string): Uint8Array {
  if (commitment(e.setId, share) !== e.commitment) {
    throw new KeyriteError('BAD_SHARE', `${what} holds a share that does not match the custodian's commitment: it was altered`);
  }
  return share;
}

/** Enough distinct guardians for the set: checked before anyone is asked for a passphrase. */
export function checkQuorum(set: GuardianSet, guardians: string[]): void {
  const dup = guardians.find((n, i) => guardians.indexOf(n) !== i);
  if (dup) throw new KeyriteError('DUPLICATE_SHARE', `the share of ${dup} is given twice`);
  if (guardians.length < set.k) {
    throw new KeyriteError('TOO_FEW_SHARES', `${guardians.length} share(s) given; ${set.custodian}'s key needs ${set.k} of ${set.m}`);
  }
}

/** Rebuilds the age identity from k distinct shares and checks it derives the recorded recipient. */
export async function rebuildAgeKey(set: GuardianSet, shares: { guardian: string; share: Uint8Array }[]): Promise<string> {
  checkQuorum(set, shares.map((s) => s.guardian));
  const xs = shares.map((s) => s.share[s.share.length - 1]);
  if (new Set(xs).size !== xs.length) throw new KeyriteError('DUPLICATE_SHARE', 'two of the shares are the same share');
  const key = await combine(shares.map((s) => s.share));
  const identity = ageIdentityOf(key);
  key.fill(0);
  if ((await recipientOf(identity)) !== set.recipient) {
    throw new KeyriteError('RECOVERY_MISMATCH', `the shares do not rebuild ${set.custodian}'s key (recipient ${set.recipient})`);
  }
  return identity;
}
