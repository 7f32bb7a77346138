import { checkpointWords, pgpWords } from '../../base/pgpwords.js';
export { printable } from '../../base/printable.js';
import type { PublicIdentity } from '../../state/identity.js';
import type { Sealed } from '../../evidence/writer.js';

// Ways of showing things to a person that several commands share: digests to read aloud,
// identities to compare, the head a witness writes down.

const WIDTH = 80;

/**
 * `first` then `words`, broken at spaces into lines of at most 80 columns, each continuation
 * indented under the first word: a terminal never splits a PGP word that a
 * person copies by hand (issue 11, finding 7).
 */
function wrapped(first: string, words: string): string[] {
  const indent = ' '.repeat(first.length);
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const w of words.split(' ')) {
    if (!empty && line.length + 1 + w.length > WIDTH) {
      lines.push(line);
      line = indent;
      empty = true;
    }
    line += (empty ? '' : ' ') + w;
    empty = false;
  }
  return [...lines, line];
}

/**
 * A sha256 digest in groups of four hex digits, eight groups a line, after `first` and then
 * under it: two short lines a person copies group by group, never cut by the terminal.
 */
function hexLines(first: string, hexDigest: string): string[] {
  const groups = hexDigest.match(/.{1,4}/g)!;
  const lines: string[] = [];
  for (let i = 0; i < groups.length; i += 8) lines.push(`${i === 0 ? first : ' '.repeat(first.length)}${groups.slice(i, i + 8).join(' ')}`);
  return lines;
}

/** A digest in groups of four hex digits, then as PGP words to read aloud (fingerprints, requests). */
export function digestLines(label: string, hexDigest: string): string[] {
  return [...hexLines(`${label}: `, hexDigest), ...wrapped(`${' '.repeat(label.length)}  `, pgpWords(hexDigest))];
}

/**
 * A digest the witness writes on paper: the full hex, then its checkpoint (the first 64 bits as
 * 8 PGP words, CEREMONY.md "Witness"), which `audit verify` matches against the full digest the
 * transcript holds.
 */
export function checkpointLines(label: string, hexDigest: string): string[] {
  const indent = label.match(/^ */)![0];
  return [...hexLines(`${label}: `, hexDigest), ...wrapped(`${indent}  checkpoint: `, checkpointWords(hexDigest))];
}

export function identityLines(pub: PublicIdentity): string[] {
  return [`${pub.name} (${pub.role})`, `  recipient:   ${pub.recipient}`, `  signing key: ${pub.signingKey}`, ...digestLines('  fingerprint', pub.fingerprint)];
}

/** What is written down at a seal: the ceremony id and its head, whose checkpoint the witness keeps on paper. */
export function sealLines(sealed: Sealed): string[] {
  return [`Ceremony ${sealed.ceremony} sealed. The witness writes down its id and checkpoint:`, ...checkpointLines('  head', sealed.head)];
}

/** The same for a script: every result of a command that writes evidence carries both. */
export function sealData(sealed: Sealed): { ceremony: string; head: string } {
  return { ceremony: sealed.ceremony, head: sealed.head };
}
