import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb } from 'node:crypto';
import { promisify } from 'node:util';
import { armor, Decrypter, Encrypter, generateX25519Identity, identityToRecipient, Stanza } from 'age-encryption';
import type { Identity, Recipient } from 'age-encryption';
import { base64nopad } from '@scure/base';
import { KeyriteError } from './errors.js';

// age through typage, with one substitution: the scrypt stanza derives its key with Node's
// native scrypt (typage's is pure JS and takes seconds at work factor 18). The file format is
// standard age, so `age -d` opens what this writes and the other way round.

const scrypt = promisify(scryptCb) as (
  pw: string,
  salt: Uint8Array,
  len: number,
  opts: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

const SCRYPT_LABEL = 'age-encryption.org/v1/scrypt';
const MAX_WORK_FACTOR = 22; // refuse files that would make us allocate gigabytes

async function scryptKey(passphrase: string, salt: Uint8Array, logN: number): Promise<Buffer> {
  const labelAndSalt = Buffer.concat([Buffer.from(SCRYPT_LABEL), salt]);
  return scrypt(passphrase, labelAndSalt, 32, { N: 2 ** logN, r: 8, p: 1, maxmem: 1024 * 2 ** logN + 2 ** 26 });
}

function chachaSeal(key: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: 16 });
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

function chachaOpen(key: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  if (sealed.length < 16) return null;
  const d = createDecipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
  } catch {
    return null;
  }
}

class NativeScryptRecipient implements Recipient {
  constructor(private readonly passphrase: string, private readonly logN: number) {}
  async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
    const salt = randomBytes(16);
    const key = await scryptKey(this.passphrase, salt, this.logN);
    return [new Stanza(['scrypt', base64nopad.encode(salt), String(this.logN)], chachaSeal(key, fileKey))];
  }
}

class NativeScryptIdentity implements Identity {
  sawScrypt = false;
  constructor(private readonly passphrase: string) {}
  async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
    const s = stanzas.find((x) => x.args[0] === 'scrypt');
    if (!s) return null;
    // age's rule: a passphrase file has exactly one stanza, so nobody else can also open it.
    if (stanzas.length !== 1 || s.args.length !== 3 || !/^[1-9][0-9]*$/.test(s.args[2]!)) {
      throw new Error('malformed scrypt stanza');
    }
    const salt = base64nopad.decode(s.args[1]!);
    const logN = Number(s.args[2]);
    if (salt.length !== 16) throw new Error('malformed scrypt stanza');
    if (logN > MAX_WORK_FACTOR) throw new Error(`scrypt work factor ${logN} is above the limit ${MAX_WORK_FACTOR}`);
    this.sawScrypt = true;
    return chachaOpen(await scryptKey(this.passphrase, salt, logN), s.body);
  }
}

export function isArmored(data: Uint8Array): boolean {
  return Buffer.from(data.subarray(0, 40)).toString('latin1').startsWith('-----BEGIN AGE ENCRYPTED FILE-----');
}

function dearmor(data: Uint8Array): Uint8Array {
  return isArmored(data) ? armor.decode(Buffer.from(data).toString('utf8')) : data;
}

/** Encrypts to a passphrase (one scrypt stanza). */
export async function encryptWithPassphrase(plaintext: Uint8Array, passphrase: string, logN: number): Promise<Uint8Array> {
  const e = new Encrypter();
  e.addRecipient(new NativeScryptRecipient(passphrase, logN));
  return e.encrypt(plaintext);
}

/**
 * Decrypts a passphrase-encrypted age file. `what` names the file for the operator.
 * A wrong passphrase and a damaged file are different errors: one is retried, the other is not.
 */
export async function decryptWithPassphrase(ciphertext: Uint8Array, passphrase: string, what: string): Promise<Uint8Array> {
  const id = new NativeScryptIdentity(passphrase);
  const d = new Decrypter();
  d.addIdentity(id);
  try {
    return await d.decrypt(dearmor(ciphertext));
  } catch (e) {
    if (id.sawScrypt && /no identity matched/i.test(String((e as Error).message))) {
      throw new KeyriteError('WRONG_PASSPHRASE', `wrong passphrase for ${what}`, { cause: e });
    }
    throw new KeyriteError('DAMAGED_FILE', `${what} is not a readable age passphrase file (${(e as Error).message}); it may be truncated or tampered with`, { cause: e });
  }
}

/** Encrypts to one or more X25519 recipients (`age1…`). */
export async function encryptTo(recipients: string[], plaintext: Uint8Array, armored = false): Promise<Uint8Array> {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  const ct = await e.encrypt(plaintext);
  return armored ? Buffer.from(armor.encode(ct), 'utf8') : ct;
}

/** Decrypts with an age identity string; `what` names the file or party for the operator. */
export async function decryptWith(identity: string, ciphertext: Uint8Array, what: string): Promise<Uint8Array> {
  const d = new Decrypter();
  d.addIdentity(identity);
  try {
    return await d.decrypt(dearmor(ciphertext));
  } catch (e) {
    const msg = String((e as Error).message);
    if (/no identity matched/i.test(msg)) {
      throw new KeyriteError('NOT_FOR_THIS_IDENTITY', `${what} is not encrypted to this identity`, { cause: e });
    }
    throw new KeyriteError('DAMAGED_FILE', `${what} cannot be decrypted (${msg}); it may be truncated or tampered with`, { cause: e });
  }
}

export async function newAgeIdentity(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

export async function recipientOf(identity: string): Promise<string> {
  return identityToRecipient(identity);
}

export function isRecipient(s: string): boolean {
  return /^age1[02-9ac-hj-np-z]{58}$/.test(s);
}
