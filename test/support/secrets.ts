import { relative, sep } from 'node:path';
import { bech32 } from '@scure/base';
import { armor, Decrypter } from 'age-encryption';
import { ageKeyBytes } from '../../src/custody/guardian-share.js';
import { parseSecret, unlockIdentity, type Identity } from '../../src/custody/identity.js';
import type { Share } from '../../src/engine/types.js';
import { allFiles } from './cli.js';

// The secret-hygiene scanner (docs/ARCHITECTURE.md §8: secret material never reaches stdout,
// stderr, a transcript or any unencrypted file). A secret is looked for in every form a careless
// line of code would write it in: raw bytes, hex (either case), base64 and base64url (padded or
// not, at any byte offset inside a longer encoded blob) and bech32 (any case, any offset, any
// prefix). What it collects, it collects by opening what the test is able to open: identity files
// with their passphrases, every other age file with every age identity found so far.

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
/** Fields of a decrypted keyrite file that hold secret material (shards, node shares, identities). */
const SECRET_FIELDS = new Set(['secret', 'age', 'ed25519', 'delta', 'seeds', 'seeds0', 'seeds1']);
const ARMOR = '-----BEGIN AGE ENCRYPTED FILE-----';

/** The characters of `encoded` that depend only on the secret placed after `pad` bytes (`bits` bits per character). */
function inner(encoded: string, pad: number, length: number, bits: number): string {
  return encoded.slice(Math.ceil((8 * pad) / bits), Math.floor((8 * (pad + length)) / bits));
}

/** Every form of `bytes` to look for: `exact` compared as written, `caseless` against lower-cased text. */
export function encodings(bytes: Uint8Array): { exact: string[]; caseless: string[] } {
  const b = Buffer.from(bytes);
  const exact = [b.toString('latin1'), b.toString('hex'), b.toString('hex').toUpperCase()];
  for (let pad = 0; pad < 3; pad++) {
    const padded = Buffer.concat([Buffer.alloc(pad), b]);
    exact.push(inner(padded.toString('base64'), pad, b.length, 6), inner(padded.toString('base64url'), pad, b.length, 6));
  }
  const caseless: string[] = [];
  // 8·pad mod 5 takes every value 0..4: each bit alignment of a 5-bit bech32 word.
  for (let pad = 0; pad < 5; pad++) {
    const words = bech32.toWords(Buffer.concat([Buffer.alloc(pad), b]));
    caseless.push(inner(words.map((w) => BECH32[w]).join(''), pad, b.length, 5));
  }
  return { exact, caseless };
}

export interface Place {
  where: string;
  text: string;
}

export const isAgeCiphertext = (bytes: Uint8Array): boolean => {
  const head = Buffer.from(bytes.subarray(0, ARMOR.length)).toString('latin1');
  return head.startsWith('age-encryption.org/v1\n') || head === ARMOR;
};

/** Secrets found so far, each under what it is; and every age identity among them, to open more with. */
export class SecretSet {
  private readonly byNeedle = new Map<string, { what: string; caseless: boolean }>();
  readonly ageIdentities = new Set<string>();
  readonly named: string[] = [];
  /** Every key share among the plaintexts (shards and node shares), for the test to combine. */
  readonly shares: Share[] = [];

  bytes(what: string, value: Uint8Array): void {
    if (value.length < 16) throw new Error(`${what}: ${value.length} bytes is too short to look for without false hits`);
    this.named.push(what);
    const { exact, caseless } = encodings(value);
    for (const n of exact) this.byNeedle.set(n, { what, caseless: false });
    for (const n of caseless) this.byNeedle.set(n, { what, caseless: true });
  }

  /** A passphrase or other secret text: as written, and every encoding of its UTF-8 bytes. */
  text(what: string, value: string): void {
    this.bytes(what, Buffer.from(value, 'utf8'));
  }

  /** An AGE-SECRET-KEY-1… string: its 32 key bytes (its bech32 form is among their encodings). */
  ageKey(what: string, identity: string): void {
    this.ageIdentities.add(identity);
    this.bytes(`${what}: age key`, ageKeyBytes(identity));
  }

  identity(what: string, id: Identity): void {
    this.ageKey(what, id.ageIdentity);
    this.bytes(`${what}: Ed25519 seed`, id.signing.seed);
  }

  /** Every secret field of a decrypted JSON document; a non-JSON plaintext (a Shamir share) is a secret as a whole. */
  plaintext(what: string, plain: Uint8Array): void {
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(plain).toString('utf8'));
    } catch {
      return this.bytes(`${what}: plaintext`, plain);
    }
    const d = doc as { kind?: string; share?: Share } & Partial<Share>;
    if (d.kind === 'keyrite-shard' && d.share) this.shares.push(d.share);
    else if (typeof d.secret === 'string' && typeof d.party === 'string') this.shares.push(d as Share);
    this.fields(what, doc, '');
  }

  private fields(what: string, v: unknown, path: string): void {
    if (typeof v !== 'object' || v === null) return;
    for (const [k, x] of Object.entries(v)) {
      const at = `${path}.${k}`;
      if (typeof x === 'string' && SECRET_FIELDS.has(k)) {
        if (x.startsWith('AGE-SECRET-KEY-1')) this.ageKey(`${what} ${at}`, x);
        else if (/^([0-9a-f]{2}){16,}$/.test(x)) {
          // Long OT seed lists: their first and last 32 bytes stand for the rest.
          const b = Buffer.from(x, 'hex');
          this.bytes(`${what} ${at}`, b.length > 64 ? b.subarray(0, 32) : b);
          if (b.length > 64) this.bytes(`${what} ${at} (end)`, b.subarray(b.length - 32));
        } else throw new Error(`${what} ${at}: a secret field the scanner does not know how to read`);
      } else this.fields(what, x, at);
    }
  }

  get size(): number {
    return this.named.length;
  }

  /** Every (secret, place) pair where the secret appears in some form. */
  find(places: Place[]): string[] {
    const hits: string[] = [];
    for (const p of places) {
      const lower = p.text.toLowerCase();
      for (const [needle, s] of this.byNeedle) if ((s.caseless ? lower : p.text).includes(needle)) hits.push(`${s.what} in ${p.where}`);
    }
    return [...new Set(hits)];
  }
}

/**
 * Opens every identity file (NAME.identity.age, with NAME's passphrases) and node identity
 * under `dirs`, then every other age file and every armored age text inside a JSON file with
 * every age identity found, until nothing new opens; collects what each holds. Returns the files
 * that stayed shut, which the caller judges (a one-off recipient's file, for one).
 */
export async function collectSecrets(set: SecretSet, dirs: string[], passphrases: Map<string, string[]>): Promise<{ opened: number; shut: string[] }> {
  const files = dirs.flatMap((d) => allFiles(d));
  const locked: string[] = [];
  for (const f of files.filter((x) => x.path.endsWith('.identity.age'))) {
    const name = f.path.split(sep).pop()!.replace(/\.identity\.age$/, '');
    let id: Identity | undefined;
    for (const p of passphrases.get(name) ?? []) id ??= await unlockIdentity(f.bytes, p, f.path).catch(() => undefined);
    if (id) set.identity(f.path, id);
    else locked.push(f.path);
  }
  for (const f of files.filter((x) => /\/nodes\/[^/]+\/identity\.json$/.test(x.path))) set.identity(f.path, await parseSecret(f.bytes, f.path));
  const sealed: { what: string; bytes: Uint8Array }[] = [];
  for (const f of files) {
    if (f.path.endsWith('.identity.age')) continue;
    if (isAgeCiphertext(f.bytes)) sealed.push({ what: f.path, bytes: f.bytes[0] === 0x2d ? armor.decode(f.bytes.toString('utf8')) : f.bytes });
    else if (f.path.endsWith('.json')) for (const a of armoredIn(f.bytes.toString('utf8'))) sealed.push({ what: `${f.path} (embedded age text)`, bytes: armor.decode(a) });
  }
  let opened = 0;
  for (let progress = true; progress;) {
    progress = false;
    const d = new Decrypter();
    for (const i of set.ageIdentities) d.addIdentity(i);
    for (const s of [...sealed]) {
      const plain = await d.decrypt(s.bytes).catch(() => undefined);
      if (!plain) continue;
      sealed.splice(sealed.indexOf(s), 1);
      set.plaintext(s.what, plain);
      opened++;
      progress = true;
    }
  }
  return { opened, shut: [...locked, ...sealed.map((s) => s.what)] };
}

function armoredIn(text: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string' && v.startsWith(ARMOR)) out.push(v);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  try {
    walk(JSON.parse(text));
  } catch {
    // not JSON: nothing embedded to open
  }
  return out;
}

/**
 * Where secrets must not be: every file under `dirs` that is not age ciphertext and not
 * excluded, as text; and, one level down, what every long base64 run in it decodes to (a DSSE
 * payload holds a statement as base64, so a hex secret inside it is not hex on disk).
 */
export function plainPlaces(dirs: string[], exclude: (path: string) => boolean, base: string): Place[] {
  const out: Place[] = [];
  for (const f of dirs.flatMap((d) => allFiles(d))) {
    if (exclude(f.path) || isAgeCiphertext(f.bytes)) continue;
    const where = relative(base, f.path);
    out.push(...withDecoded(where, f.bytes.toString('latin1')));
  }
  return out;
}

/** `text` and what each base64 run of 64 characters or more in it decodes to. */
export function withDecoded(where: string, text: string): Place[] {
  const out: Place[] = [{ where, text }];
  for (const m of text.matchAll(/[A-Za-z0-9+/_-]{64,}={0,2}/g)) out.push({ where: `${where} (decoded base64 at ${m.index})`, text: Buffer.from(m[0], m[0].includes('-') || m[0].includes('_') ? 'base64url' : 'base64').toString('latin1') });
  return out;
}
