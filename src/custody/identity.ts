import { KeyriteError } from '../base/errors.js';
import { decryptWithPassphrase, encryptWithPassphrase, newAgeIdentity, recipientOf } from '../base/age.js';
import { newSigningKey, signingKeyFromSeed, type SigningKey } from '../base/ed25519.js';
import { checkName, fingerprintOf, type PublicIdentity } from '../state/identity.js';
import type { Role } from '../state/roles.js';

// A person's or node's identity: an age X25519 key (decrypts what is addressed to them) and an
// Ed25519 key (signs evidence, approvals, requests). People keep theirs in an age passphrase
// file; a node keeps its in a 0600 file inside its own directory.

export interface Identity {
  name: string;
  role: Role;
  ageIdentity: string; // AGE-SECRET-KEY-1…
  recipient: string;
  signing: SigningKey;
}

/** The plaintext inside an identity file. */
interface IdentitySecret {
  v: 1;
  name: string;
  role: Role;
  age: string;
  ed25519: string; // 32-byte seed, hex
}

export async function newIdentity(name: string, role: Role, ageIdentity?: string): Promise<Identity> {
  checkName(name);
  const age = ageIdentity ? { identity: ageIdentity, recipient: await recipientOf(ageIdentity) } : await newAgeIdentity();
  return { name, role, ageIdentity: age.identity, recipient: age.recipient, signing: newSigningKey() };
}

export function publicOf(id: Identity): PublicIdentity {
  return {
    v: 1,
    name: id.name,
    role: id.role,
    recipient: id.recipient,
    signingKey: id.signing.publicKey,
    fingerprint: fingerprintOf(id.name, id.role, id.recipient, id.signing.publicKey),
  };
}

export function serializeSecret(id: Identity): Uint8Array {
  const secret: IdentitySecret = { v: 1, name: id.name, role: id.role, age: id.ageIdentity, ed25519: Buffer.from(id.signing.seed).toString('hex') };
  return Buffer.from(JSON.stringify(secret) + '\n', 'utf8');
}

export async function parseSecret(bytes: Uint8Array, what: string): Promise<Identity> {
  let s: IdentitySecret;
  try {
    s = JSON.parse(Buffer.from(bytes).toString('utf8')) as IdentitySecret;
    if (s.v !== 1 || typeof s.name !== 'string' || typeof s.age !== 'string' || typeof s.ed25519 !== 'string') throw new Error('fields');
    return { name: s.name, role: s.role, ageIdentity: s.age, recipient: await recipientOf(s.age), signing: signingKeyFromSeed(s.ed25519) };
  } catch (e) {
    throw new KeyriteError('DAMAGED_FILE', `${what} does not hold a keyrite identity`, { cause: e });
  }
}

export async function lockIdentity(id: Identity, passphrase: string, logN: number): Promise<Uint8Array> {
  return encryptWithPassphrase(serializeSecret(id), passphrase, logN);
}

/**
 * Opens an identity file and checks it is the identity the roster knows: a file swapped for
 * another person's, or one whose keys changed, is refused rather than used.
 */
export async function unlockIdentity(file: Uint8Array, passphrase: string, what: string, expected?: PublicIdentity): Promise<Identity> {
  const id = await parseSecret(await decryptWithPassphrase(file, passphrase, what), what);
  if (expected) checkMatches(id, expected, what);
  return id;
}

export function checkMatches(id: Identity, expected: PublicIdentity, what: string): void {
  if (id.name !== expected.name || id.recipient !== expected.recipient || id.signing.publicKey !== expected.signingKey) {
    throw new KeyriteError('IDENTITY_MISMATCH', `${what} is not the identity on record for ${expected.name} (fingerprint ${expected.fingerprint})`);
  }
}
