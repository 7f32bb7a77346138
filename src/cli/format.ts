import { pgpWords } from '../base/pgpwords.js';
import type { PublicIdentity } from '../state/identity.js';
import { DEFAULT_WORK_FACTOR, FAST_WORK_FACTOR } from '../base/kdf.js';
import type { Sealed } from '../evidence/writer.js';
import type { Context } from './main.js';

// Shared ways of showing things to a person.

/** A digest in groups of four hex digits, then as PGP words to read aloud. */
export function digestLines(label: string, hexDigest: string): string[] {
  return [`${label}: ${hexDigest.match(/.{1,4}/g)!.join(' ')}`, `${' '.repeat(label.length)}  ${pgpWords(hexDigest)}`];
}

export function identityLines(pub: PublicIdentity): string[] {
  return [`${pub.name} (${pub.role})`, `  recipient:   ${pub.recipient}`, `  signing key: ${pub.signingKey}`, ...digestLines('  fingerprint', pub.fingerprint)];
}

export function workFactor(ctx: Context): number {
  return ctx.fastKdf ? FAST_WORK_FACTOR : DEFAULT_WORK_FACTOR;
}

/** What the witness writes down at a seal. */
export function sealLines(sealed: Sealed): string[] {
  return ['Ceremony sealed. Witness, write down the head digest:', ...digestLines('  head', sealed.head)];
}
