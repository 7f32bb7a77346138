import { KeyriteError, shown } from '../../base/errors.js';
import { pgpWords } from '../../base/pgpwords.js';
import type { EntryView, VerifyResult } from '../../audit/verify.js';
import { checkpointLines, printable as safe } from './common.js';

// How the verifier's findings are shown: the summary scripts read, the failure list a person
// reads, and `audit show`'s timeline (an entry a line, ✓/✗ per signature, seals in PGP words).

export function verifySummary(r: VerifyResult): Record<string, unknown> {
  return { entries: r.entries, ceremonies: r.ceremonies, head: r.head, genesis: r.genesis, interrupted: r.interrupted, checkpoints: r.checkpoints };
}

/** Each ceremony a crash cut short: where its evidence stops, who recorded it, and what its end never showed. */
export function interruptionLines(r: VerifyResult): string[] {
  return r.interrupted.flatMap((i) => [
    `⚠ ceremony ${safe(i.ceremony)} was interrupted ${i.lastSeq === null ? 'before its first entry was whole' : `after entry ${i.lastSeq}`} and never sealed; ${safe(i.recordedBy.file)}:${i.recordedBy.line} records it${i.torn.length ? ` (torn bytes kept in ${i.torn.map(safe).join(', ')})` : ''}.`,
    ...i.owed.map((o) => `    cut short before: ${safe(o.reason)} (line ${o.line})`),
  ]);
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
  if (p.step === 'ceremony.abort') lines.push(`      ⚠ aborted: ${safe(shown(p.result.message ?? p.result.code))}`, ...verdictLines(p.result));
  if (p.step === 'ceremony.seal') lines.push(...checkpointLines('      head', e.digest));
  return [...lines, ...failures];
}

// An abort's verdict on a node's accusation (docs/ARCHITECTURE.md §5, "Blame"): a culprit only
// where the evidence proved it (audit verify judges it again), else the claimant and its claim.
function verdictLines(result: Record<string, unknown>): string[] {
  const b = result.blame as Record<string, unknown> | undefined;
  const c = result.claim as Record<string, unknown> | undefined;
  const lines: string[] = [];
  if (b) lines.push(`      blame (verified): ${safe(shown(b.culprit))} at fault (${safe(shown(b.code))}), proved by its own signed messages from ${safe(shown(b.by))}; evidence sha256 ${safe(shown(b.digest)).slice(0, 16)}…`);
  if (c) lines.push(`      claim (not verified): ${safe(shown(c.by))} against ${safe(shown(c.against))} (${safe(shown(c.code))}): ${safe(shown(c.why))}; ${safe(shown(c.against))} is not blamed`);
  return lines;
}

/** An abort's blame or claim under --json: who, what, and the evidence digest (the evidence itself stays in the transcript). */
function verdictOfEntry(result: Record<string, unknown> | undefined): Record<string, unknown> {
  const b = result?.blame as Record<string, unknown> | undefined;
  const c = result?.claim as Record<string, unknown> | undefined;
  return {
    ...(b ? { blame: { verified: b.verified, culprit: b.culprit, by: b.by, code: b.code, digest: b.digest } } : {}),
    ...(c ? { claim: { verified: c.verified, by: c.by, against: c.against, code: c.code, why: c.why } } : {}),
  };
}

/** One timeline entry as `audit show` gives it under --json. */
export function entrySummary(e: EntryView): Record<string, unknown> {
  const p = e.statement?.predicate;
  const verdict = p?.step === 'ceremony.abort' ? verdictOfEntry(p.result) : {};
  return { file: e.file, line: e.line, digest: e.digest, ceremony: p?.ceremony, seq: p?.seq, step: p?.step, actor: p?.actor, time: p?.time, signatures: e.signatures, failures: e.failures, ...verdict };
}
