import { KeyriteError } from '../../base/errors.js';
import { pgpWords } from '../../base/pgpwords.js';
import type { EntryView, VerifyResult } from '../../audit/verify.js';
import { digestLines } from './common.js';

// How the verifier's findings are shown: the summary scripts read, the failure list a person
// reads, and `audit show`'s timeline (an entry a line, ✓/✗ per signature, seals in PGP words).

export function verifySummary(r: VerifyResult): Record<string, unknown> {
  return { entries: r.entries, ceremonies: r.ceremonies, head: r.head, genesis: r.genesis };
}

/** A failed verification as a refusal: each failure by file and line, and all of them for scripts. */
export function verifyFailed(r: VerifyResult): KeyriteError {
  const shown = r.failures.map((f) => `  ${f.file}:${f.line}: ${f.reason}`);
  const more = r.failureCount > r.failures.length ? [`  … and ${r.failureCount - r.failures.length} more`] : [];
  const message = [`audit verify failed: ${r.failureCount} problem(s) in ${r.entries} entries`, ...shown, ...more].join('\n');
  return new KeyriteError('VERIFY_FAILED', message, { details: { ...verifySummary(r), failures: r.failures } });
}

const mark = (ok: boolean): string => (ok ? '✓' : '✗');

export function entryLines(e: EntryView): string[] {
  const s = e.statement;
  if (!s) return [`✗ ${e.file}:${e.line} unreadable: ${e.failures.join('; ')}`];
  const p = s.predicate;
  const sigs = e.signatures.map((g) => `${mark(g.ok)} ${g.name ?? g.keyid.slice(0, 12)}${g.role ? ` (${g.role})` : ''}`).join(', ');
  const lines = [`${mark(e.failures.length === 0)} ${String(p.seq).padStart(3)} ${p.time}  ${p.step}  by ${p.actor}  [${sigs}]`];
  for (const sub of s.subject.filter((x) => !x.name.startsWith('keyrite:'))) {
    lines.push(`      ${sub.name}  ${sub.digest.sha256.slice(0, 16)}…  ${pgpWords(sub.digest.sha256.slice(0, 8))}`);
  }
  if (p.step === 'ceremony.interrupted') lines.push(`      ⚠ ceremony ${String(p.params.ceremony)} was interrupted and never sealed`);
  if (p.step === 'ceremony.abort') lines.push(`      ⚠ aborted: ${String(p.result.message ?? p.result.code)}`);
  if (p.step === 'ceremony.seal') lines.push(...digestLines('      head', e.digest));
  for (const f of e.failures) lines.push(`      ✗ ${f}`);
  return lines;
}

/** One timeline entry as `audit show` gives it under --json. */
export function entrySummary(e: EntryView): Record<string, unknown> {
  const p = e.statement?.predicate;
  return { file: e.file, line: e.line, digest: e.digest, ceremony: p?.ceremony, seq: p?.seq, step: p?.step, actor: p?.actor, time: p?.time, signatures: e.signatures, failures: e.failures };
}
