import { KeyriteError, shown } from '../../base/errors.js';
import { pgpWords } from '../../base/pgpwords.js';
import type { EntryView, VerifyResult } from '../../audit/verify.js';
import { digestLines, printable as safe } from './common.js';

// How the verifier's findings are shown: the summary scripts read, the failure list a person
// reads, and `audit show`'s timeline (an entry a line, ✓/✗ per signature, seals in PGP words).

export function verifySummary(r: VerifyResult): Record<string, unknown> {
  return { entries: r.entries, ceremonies: r.ceremonies, head: r.head, genesis: r.genesis };
}

/** A failed verification as a refusal: each failure by file and line, and all of them for scripts. */
export function verifyFailed(r: VerifyResult): KeyriteError {
  const shown = r.failures.map((f) => `  ${safe(f.file)}:${f.line}: ${safe(f.reason)}`);
  const more = r.failureCount > r.failures.length ? [`  … and ${r.failureCount - r.failures.length} more`] : [];
  const message = [`audit verify failed: ${r.failureCount} problem(s) in ${r.entries} entries`, ...shown, ...more].join('\n');
  return new KeyriteError('VERIFY_FAILED', message, { details: { ...verifySummary(r), failures: r.failures } });
}

const mark = (ok: boolean): string => (ok ? '✓' : '✗');

/**
 * One entry of the timeline. Everything in a line but its digest was written by a signer, or by
 * whoever edited the file, so each such field is printed through printable(): a newline in a
 * time or an abort message cannot forge a timeline line.
 */
export function entryLines(e: EntryView): string[] {
  const s = e.statement;
  const failures = e.failures.map((f) => `      ✗ ${safe(f.reason)}`);
  if (!s) return [`✗ ${safe(e.file)}:${e.line} unreadable`, ...failures];
  const p = s.predicate;
  const sigs = e.signatures.map((g) => `${mark(g.ok)} ${safe(g.name ?? g.keyid.slice(0, 12))}${g.role ? ` (${safe(g.role)})` : ''}`).join(', ');
  const lines = [`${mark(e.failures.length === 0)} ${String(p.seq).padStart(3)} ${safe(p.time)}  ${safe(p.step)}  by ${safe(p.actor)}  [${sigs}]`];
  for (const sub of s.subject.filter((x) => !x.name.startsWith('keyrite:'))) {
    lines.push(`      ${safe(sub.name)}  ${sub.digest.sha256.slice(0, 16)}…  ${pgpWords(sub.digest.sha256.slice(0, 8))}`);
  }
  if (p.step === 'ceremony.interrupted') lines.push(`      ⚠ ceremony ${safe(shown(p.params.ceremony))} was interrupted and never sealed`);
  if (p.step === 'ceremony.abort') lines.push(`      ⚠ aborted: ${safe(shown(p.result.message ?? p.result.code))}`);
  if (p.step === 'ceremony.seal') lines.push(...digestLines('      head', e.digest));
  return [...lines, ...failures];
}

/** One timeline entry as `audit show` gives it under --json. */
export function entrySummary(e: EntryView): Record<string, unknown> {
  const p = e.statement?.predicate;
  return { file: e.file, line: e.line, digest: e.digest, ceremony: p?.ceremony, seq: p?.seq, step: p?.step, actor: p?.actor, time: p?.time, signatures: e.signatures, failures: e.failures };
}
