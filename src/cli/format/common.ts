import { pgpWords } from '../../base/pgpwords.js';
import type { PublicIdentity } from '../../state/identity.js';
import type { Sealed } from '../../evidence/writer.js';

// Ways of showing things to a person that several commands share: digests to read aloud,
// identities to compare, the head a witness writes down.

/** A digest in groups of four hex digits, then as PGP words to read aloud. */
export function digestLines(label: string, hexDigest: string): string[] {
  return [`${label}: ${hexDigest.match(/.{1,4}/g)!.join(' ')}`, `${' '.repeat(label.length)}  ${pgpWords(hexDigest)}`];
}

export function identityLines(pub: PublicIdentity): string[] {
  return [`${pub.name} (${pub.role})`, `  recipient:   ${pub.recipient}`, `  signing key: ${pub.signingKey}`, ...digestLines('  fingerprint', pub.fingerprint)];
}

/** What is written down at a seal: the head digest, which the witness keeps on paper. */
export function sealLines(sealed: Sealed): string[] {
  return ['Ceremony sealed. The head digest, for the paper record the witness keeps:', ...digestLines('  head', sealed.head)];
}

/**
 * Text someone else wrote (a transcript's time, actor, step, subject names, an abort message),
 * made safe to print on one terminal line: C0 and C1 control characters (newline, carriage
 * return, escape — terminal sequences), DEL, the Unicode line and paragraph separators and the
 * bidirectional overrides are shown as \u{…} escapes, and a backslash as \\, so the text can
 * neither start a forged line nor hide or reorder what follows it.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => (c === '\\' ? '\\\\' : `\\u{${c.codePointAt(0)!.toString(16)}}`));
}
