import { KeyriteError } from '../base/errors.js';
import { decryptWith, encryptTo } from '../base/age.js';
import { getEngine, serializeShare, type Share } from '../engine/index.js';

// A share is only ever age ciphertext outside memory: at rest with its node, on its way to a
// node, inside a custodian's shard. Opening one is the same everywhere: decrypt, parse, wipe the
// plaintext bytes, and read the share with the engine the caller trusts.

export async function sealShare(recipient: string, share: Share): Promise<Uint8Array> {
  return encryptTo([recipient], Buffer.from(serializeShare(share), 'utf8'));
}

/** Decrypts an age file holding JSON; the plaintext bytes are wiped whatever happens. `what` names the file in errors. */
export async function openSealed(ageIdentity: string, bytes: Uint8Array, what: string): Promise<Record<string, unknown>> {
  const plain = await decryptWith(ageIdentity, bytes, what);
  try {
    const value: unknown = JSON.parse(Buffer.from(plain).toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below, with the file named
  } finally {
    plain.fill(0);
  }
  throw new KeyriteError('DAMAGED_FILE', `${what} does not hold keyrite data; it may be truncated or tampered with`);
}

/** A share read with `engine` (from a record the caller trusts), or with the engine it names itself. */
export function readShare(value: Record<string, unknown>, what: string, engine = String(value.engine)): Share {
  return getEngine(engine).parseShare(value, what);
}

/** A sealed share (serializeShare's JSON) opened and checked. */
export async function openSealedShare(ageIdentity: string, bytes: Uint8Array, what: string, engine?: string): Promise<Share> {
  return readShare(await openSealed(ageIdentity, bytes, what), what, engine);
}
