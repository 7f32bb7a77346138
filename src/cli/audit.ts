import type { Command } from 'commander';
import { KeyriteError, usageError } from '../base/errors.js';
import { pgpWords } from '../base/pgpwords.js';
import { ceremonyFiles } from '../evidence/chain.js';
import type { EntryView, VerifyOptions, VerifyResult } from '../audit/verify.js';
import { digestLines } from './format.js';
import { run, type Context } from './main.js';

// audit verify: the offline check of the evidence (DESIGN §6); audit show: the same pass,
// printed as a timeline a person can read. Both read only; neither takes the workspace lock.

function digestOption(name: string): (v: string) => string {
  return (v) => {
    if (!/^[0-9a-f]{64}$/i.test(v)) throw usageError(`${name} must be a sha256 digest in hex (64 characters), got "${v}"`);
    return v.toLowerCase();
  };
}

/** FILE arguments, or else every transcript of the workspace (then its roster file is checked too). */
function sources(ctx: Context, files: string[]): Pick<VerifyOptions, 'files' | 'root' | 'rosterFile'> {
  if (files.length > 0) return { files, ...(ctx.ws.exists() ? { root: ctx.ws.root } : {}) };
  const ws = ctx.ws.requireExists();
  return { files: ceremonyFiles(ws.transcriptsDir), root: ws.root, rosterFile: ws.rosterFile };
}

function summary(r: VerifyResult): Record<string, unknown> {
  return { entries: r.entries, ceremonies: r.ceremonies, head: r.head, genesis: r.genesis };
}

function failed(r: VerifyResult): KeyriteError {
  const shown = r.failures.map((f) => `  ${f.file}:${f.line}: ${f.reason}`);
  const more = r.failureCount > r.failures.length ? [`  … and ${r.failureCount - r.failures.length} more`] : [];
  return new KeyriteError('VERIFY_FAILED', [`audit verify failed: ${r.failureCount} problem(s) in ${r.entries} entries`, ...shown, ...more].join('\n'), { details: {
    ...summary(r),
    failures: r.failures,
  } });
}

/** The [file...] operands (run() hands actions only the options). */
const operands = (cmd: Command): string[] => (cmd.processedArgs[0] as string[] | undefined) ?? [];

const mark = (ok: boolean) => (ok ? '✓' : '✗');

function entryLines(e: EntryView): string[] {
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

export function register(program: Command): void {
  const audit = program.command('audit').description('check the signed, hash-chained evidence offline');
  const verify = audit
    .command('verify')
    .description('verify signatures, chain, roster, policy, anchors and artifacts; exit 0 only if all hold')
    .argument('[file...]', 'transcript files (default: every transcript in the workspace)')
    .option('--genesis <digest>', 'the first line\'s digest, from the witnesses\' paper record', digestOption('--genesis'))
    .option('--head <digest>', 'the last seal\'s head digest, from the witnesses\' paper record', digestOption('--head'))
    .action(
      run(async (o, ctx) => {
        const { verifyTranscripts } = await import('../audit/verify.js');
        const r = await verifyTranscripts({ ...sources(ctx, operands(verify)), genesis: o.genesis, head: o.head });
        if (!r.ok) throw failed(r);
        const anchored = [o.genesis && 'genesis', o.head && 'head'].filter(Boolean).join(' and ');
        return {
          data: summary(r),
          lines: [
            `✓ ${r.entries} entries in ${r.ceremonies} ceremonies verify${anchored ? `, and match the witnessed ${anchored}` : ''}.`,
            ...(r.genesis ? digestLines('genesis', r.genesis) : []),
            ...(r.head ? digestLines('head   ', r.head) : []),
            ...(anchored ? [] : ['Without --genesis and --head this shows only that the history is consistent, not that it is the witnessed one.']),
          ],
        };
      }),
    );
  const show = audit
    .command('show')
    .description('print the transcript as a timeline: who, what, when, digests, ✓/✗ per signature')
    .argument('[file...]', 'transcript files (default: every transcript in the workspace)')
    .action(
      run(async (_o, ctx) => {
        const { verifyTranscripts } = await import('../audit/verify.js');
        const lines: string[] = [];
        const entries: Record<string, unknown>[] = [];
        let file = '';
        const r = await verifyTranscripts({
          ...sources(ctx, operands(show)),
          onEntry: (e) => {
            if (e.file !== file) lines.push('', `── ${(file = e.file)}`);
            lines.push(...entryLines(e));
            const p = e.statement?.predicate;
            entries.push({ file: e.file, line: e.line, digest: e.digest, ceremony: p?.ceremony, seq: p?.seq, step: p?.step, actor: p?.actor, time: p?.time, signatures: e.signatures, failures: e.failures });
          },
        });
        const tail = r.ok ? [`✓ all ${r.entries} entries verify.`] : [`✗ ${r.failureCount} problem(s); run "keyrite audit verify" for the list.`];
        return { data: { ...summary(r), verified: r.ok, timeline: entries, failures: r.failures }, lines: [...lines.slice(1), '', ...tail] };
      }),
    );
}
