import { pgpWords } from '../../base/pgpwords.js';
export { printable } from '../../base/printable.js';
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
