import type { Command } from 'commander';
import type { VerifyOptions } from '../../audit/verify.js';
import { checkpointWords, hexFromWords } from '../../base/pgpwords.js';
import { ceremonyFiles } from '../../evidence/chain.js';
import { requireRegularFile } from '../../fs/workspace.js';
import { run, type AuditShowOptions, type AuditVerifyOptions, type Context } from '../context.js';
import { checkpointLines, printable } from '../format/common.js';
import { entryLines, entrySummary, interruptionLines, verifyFailed, verifySummary } from '../format/audit.js';
import { cliUsage } from '../hints.js';
import { collectRepeated } from '../inputs.js';

// audit verify: the offline check of the evidence (docs/ARCHITECTURE.md §6); audit show: the same pass,
// printed as a timeline a person can read. Both read only; neither takes the workspace lock.

function collectDigests(name: string): (v: string, all: string[] | undefined) => string[] {
  const one = digestOption(name);
  return (v, all) => [...(all ?? []), one(v)];
}

/**
 * A digest as the witness wrote it (CEREMONY.md, "Witness"): the full sha256 in hex, spaced as
 * printed or not; its 32 PGP words; or its checkpoint, the first 64 bits as 8 PGP words. Returns
 * the hex: 64 digits, or 16 for a checkpoint, which the verifier matches as a prefix.
 */
function digestOption(name: string): (v: string) => string {
  return (v) => {
    const hex = v.replace(/\s+/g, '');
    if (/^[0-9a-f]{64}$/i.test(hex)) return hex.toLowerCase();
    if (/^[0-9a-f]*$/i.test(hex)) throw cliUsage(`${name} must be a sha256 digest in hex (64 digits), its 32 PGP words or its 8-word checkpoint; got ${hex.length} hex digits`);
    const words = v.trim().split(/\s+/);
    if (words.length !== 8 && words.length !== 32) throw cliUsage(`${name} takes 8 PGP words (a checkpoint) or 32 (a full digest); got ${words.length} words: "${v.trim()}"`);
    const r = hexFromWords(v);
    if ('problem' in r) throw cliUsage(`${name}: ${r.problem}`);
    return r.hex;
  };
}

/** FILE arguments, or else every transcript of the workspace (then its roster file is checked too). */
function sources(ctx: Context, files: string[]): Pick<VerifyOptions, 'files' | 'root' | 'rosterFile'> {
  const regular = (list: string[]) => list.map((f) => requireRegularFile(f, 'the transcript'));
  if (files.length > 0) return { files: regular(files), ...(ctx.ws.exists() ? { root: ctx.ws.root } : {}) };
  // The workspace's own files go to the verifier as they are: one that is not a regular file is a failure it reports.
  const ws = ctx.ws.requireExists();
  return { files: ceremonyFiles(ws.transcriptsDir), root: ws.root, rosterFile: ws.rosterFile };
}

const FILES_HELP = 'transcript files (default: every transcript in the workspace)';

export function register(program: Command): void {
  const audit = program.command('audit').description('check the signed, hash-chained evidence offline');
  audit
    .command('verify')
    .description('verify signatures, chain, roster, policy, anchors and artifacts; exit 0 only if all hold')
    .argument('[file...]', FILES_HELP)
    .option('--genesis <digest>', 'the first line\'s digest, from the witnesses\' paper record (hex, spaced or not, 32 PGP words, or the 8-word checkpoint)', digestOption('--genesis'))
    .option('--head <digest>', 'the last seal\'s head, from the witnesses\' paper record, in any of those forms: it must be the last line', digestOption('--head'))
    .option('--checkpoint <digest>', 'an earlier witnessed head, in any of those forms, that must be the head of a ceremony in the chain (repeat for each)', collectDigests('--checkpoint'))
    .option('--receipt <file>', 'a signer\'s signing receipt, whose ceremony and seal must be in the chain (repeat for each)', collectRepeated)
    .action(
      run<AuditVerifyOptions>(async (o, ctx, files) => {
        const { verifyTranscripts } = await import('../../audit/verify.js');
        const r = await verifyTranscripts({ ...sources(ctx, files), genesis: o.genesis, head: o.head, checkpoints: o.checkpoint, receipts: o.receipt });
        if (!r.ok) throw verifyFailed(r);
        const count = (n: number | undefined, one: string) => (n ? `${n} ${one}${n > 1 ? 's' : ''}` : undefined);
        const anchored = [o.genesis && 'genesis', o.head && 'head', count(o.checkpoint?.length, 'checkpoint'), count(o.receipt?.length, 'receipt')].filter(Boolean).join(' and ');
        return {
          data: verifySummary(r),
          lines: [
            `✓ ${r.entries} entries in ${r.ceremonies} ceremonies verify${anchored ? `, and match the witnessed ${anchored}` : ''}.`,
            ...r.checkpoints.map((c) => `  checkpoint ${checkpointWords(c.digest)}: ${c.checkpoint.length === c.digest.length ? 'a line' : 'the head'} of ceremony ${c.ceremony}`),
            ...(r.genesis ? checkpointLines('genesis', r.genesis) : []),
            ...(r.head ? checkpointLines('head', r.head) : []),
            ...interruptionLines(r),
            ...(o.genesis && (o.head || o.checkpoint?.length) ? [] : ['Without --genesis and --head (or --checkpoint) this shows only that the history is consistent, not that it is the witnessed one.']),
          ],
        };
      }),
    );
  audit
    .command('show')
    .description('print the transcript as a timeline: who, what, when, digests, ✓/✗ per signature')
    .argument('[file...]', FILES_HELP)
    .action(
      run<AuditShowOptions>(async (_o, ctx, files) => {
        const { verifyTranscripts } = await import('../../audit/verify.js');
        const lines: string[] = [];
        const timeline: Record<string, unknown>[] = [];
        let file = '';
        const r = await verifyTranscripts({
          ...sources(ctx, files),
          onEntry: (e) => {
            if (e.file !== file) lines.push('', `── ${printable((file = e.file))}`);
            lines.push(...entryLines(e));
            timeline.push(entrySummary(e));
          },
        });
        const tail = r.ok ? [`✓ all ${r.entries} entries verify.`] : [`✗ ${r.failureCount} problem(s); run "keyrite audit verify" for the list.`];
        return { data: { ...verifySummary(r), verified: r.ok, timeline, failures: r.failures }, lines: [...lines.slice(1), '', ...tail] };
      }),
    );
}
