import { digestOf } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { PERSON_ROLES, type Role } from './roles.js';

// The public half of an identity, as the roster holds it: who (name, role), what decrypts to
// them (age recipient), what they sign with (Ed25519 key), and the fingerprint that binds the
// three for people to compare aloud. The secret half is src/custody/identity.ts.

export interface PublicIdentity {
  v: 1;
  name: string;
  role: Role;
  recipient: string; // age1…
  signingKey: string; // Ed25519 public key, hex
  fingerprint: string; // hex, see fingerprintOf
}

/** A person's or node's name: 1-32 lowercase letters, digits or "-", starting with a letter. */
export const NAME = /^[a-z][a-z0-9-]{0,31}$/;

export function checkName(name: string, what = 'name'): string {
  if (!NAME.test(name)) {
    throw new KeyriteError('BAD_NAME', `${what} "${name}" is not valid: use 1-32 lowercase letters, digits or "-", starting with a letter`);
  }
  return name;
}

/** A short, stable digest of the public keys, to compare aloud or on paper. Always recomputed, never read. */
export function fingerprintOf(name: string, role: Role, recipient: string, signingKey: string): string {
  return digestOf({ name, role, recipient, signingKey }).slice(0, 40);
}

/** Checks that `x` is a well-formed public identity whose fingerprint matches its keys. */
export function checkPublicIdentity(x: unknown, what: string): PublicIdentity {
  const p = x as Partial<PublicIdentity> | null;
  const ok =
    typeof p === 'object' && p !== null && p.v === 1 &&
    typeof p.name === 'string' && NAME.test(p.name) && typeof p.role === 'string' && [...PERSON_ROLES, 'node'].includes(p.role) &&
    typeof p.recipient === 'string' && typeof p.signingKey === 'string' && /^[0-9a-f]{64}$/.test(p.signingKey) &&
    p.fingerprint === fingerprintOf(p.name, p.role, p.recipient, p.signingKey);
  if (!ok) throw new KeyriteError('BAD_IDENTITY', `${what} is not a well-formed public identity (or its fingerprint does not match its keys)`);
  return p as PublicIdentity;
}
