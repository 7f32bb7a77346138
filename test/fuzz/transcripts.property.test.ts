import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadState } from '../../src/audit/state.js';
import { verifyTranscripts, type FailureKind } from '../../src/audit/verify.js';
import { ceremonyFiles } from '../../src/evidence/chain.js';
import { Workspace } from '../../src/fs/workspace.js';
import { copyGolden, GOLDEN } from '../../fixtures/golden.js';
import { snapshot } from '../support/cli.js';
import { assertCleanError, attempt, fuzzRuns, mutatedJson, mutatedText, type Json } from '../support/fuzz.js';

// Property tests of the transcripts (docs/ARCHITECTURE.md, "The transcript"): one line of the
// golden workspace's real history damaged — a character changed, its envelope or its statement
// with one node replaced or removed, the line dropped, doubled or swapped with the next — and
// the whole chain verified, as `audit verify` does, and loaded, as every command does. The
// verifier reports failures of known kinds naming the file and line, and never throws; loading
// refuses with a clean KeyriteError; neither changes a file. Only an undamaged history passes.

const TIMEOUT = { timeout: 10 * 60_000 };
const KINDS: FailureKind[] = ['form', 'chain', 'signature', 'roster', 'script', 'transition', 'policy', 'unclosed', 'torn', 'empty', 'anchor', 'artifact', 'cache'];

const root = copyGolden('keyrite-fuzz-transcripts-');
after(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, 'transcripts');
const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
const original = new Map(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
const linesOf = (f: string): string[] => original.get(f)!.split('\n').slice(0, -1);

type Edit = { file: number; line: number; how: 'text' | 'envelope' | 'statement' | 'drop' | 'double' | 'swap'; text: string; json: Json | undefined };

/** The JSON of a line's statement (its base64 payload, decoded). */
const statementOf = (line: string): Json => JSON.parse(Buffer.from(JSON.parse(line).payload, 'base64').toString('utf8')) as Json;

/** One case: which line, and the damage, drawn from that line itself. */
const edit: fc.Arbitrary<Edit> = fc.record({ file: fc.nat(files.length - 1), line: fc.nat() }).chain(({ file, line }) => {
  const lines = linesOf(files[file]!);
  const at = line % lines.length;
  const real = lines[at]!;
  return fc.record({
    file: fc.constant(file),
    line: fc.constant(at),
    how: fc.constantFrom('text', 'envelope', 'statement', 'statement', 'drop', 'double', 'swap'),
    text: mutatedText([real]),
    json: fc.oneof(mutatedJson([JSON.parse(real) as Json]), mutatedJson([statementOf(real)])),
  });
});

/** The file's lines after the edit. */
function applied(e: Edit): string[] {
  const lines = linesOf(files[e.file]!);
  const real = lines[e.line]!;
  const envelope = JSON.parse(real) as Record<string, Json>;
  const by = (() => {
    switch (e.how) {
      case 'text': return [e.text];
      case 'envelope': return [JSON.stringify(e.json) ?? ''];
      case 'statement': return [JSON.stringify({ ...envelope, payload: Buffer.from(JSON.stringify(e.json) ?? '').toString('base64') })];
      case 'drop': return [];
      case 'double': return [real, real];
      case 'swap': return lines[e.line + 1] === undefined ? [] : [lines[e.line + 1]!, real];
    }
  })();
  return [...lines.slice(0, e.line), ...by, ...lines.slice(e.line + (e.how === 'swap' ? 2 : 1))];
}

/** Writes the damaged file, runs `check`, and puts the real file back. */
async function withEdit<T>(e: Edit, check: (changed: boolean) => Promise<T>): Promise<T> {
  const f = files[e.file]!;
  const text = applied(e).map((l) => l + '\n').join('');
  writeFileSync(join(dir, f), text);
  try {
    return await check(text !== original.get(f));
  } finally {
    writeFileSync(join(dir, f), original.get(f)!);
  }
}

test('audit verify: any damaged line of a real history is reported, by kind, file and line; the verifier never throws', TIMEOUT, async () => {
  const before = snapshot(root);
  await fc.assert(
    fc.asyncProperty(edit, async (e) => {
      await withEdit(e, async (changed) => {
        const during = snapshot(root);
        const r = await attempt('verifyTranscripts', () => verifyTranscripts({ files: ceremonyFiles(dir), root, rosterFile: join(root, 'roster.json') }), (err) => assert.fail(`the verifier threw: ${(err as Error)?.stack}`));
        assert.ok('value' in r);
        const v = r.value;
        assert.equal(v.ok, !changed, changed ? 'a damaged history does not verify' : 'the real history verifies');
        assert.equal(v.failureCount >= v.failures.length, true);
        for (const f of v.failures) {
          assert.ok(KINDS.includes(f.kind), `unknown failure kind ${f.kind}`);
          assert.ok(typeof f.reason === 'string' && f.reason.length > 0 && Number.isInteger(f.line) && f.line >= 0 && typeof f.file === 'string');
        }
        assert.deepEqual(snapshot(root), during, 'verifying writes nothing');
      });
    }),
    { numRuns: fuzzRuns(20) },
  );
  assert.deepEqual(snapshot(root), before);
});

test('loading state: a command given a damaged history refuses it cleanly and changes nothing', TIMEOUT, async () => {
  const ws = new Workspace(root);
  await fc.assert(
    fc.asyncProperty(edit, async (e) => {
      await withEdit(e, async (changed) => {
        const during = snapshot(root);
        const r = await attempt('loadState', () => loadState(ws), assertCleanError);
        // Only a history cut short after its last entry, as a crash leaves it, still loads (the open ceremony is an interruption).
        const crashShaped = e.how === 'drop' && e.file === files.length - 1 && e.line === linesOf(files[e.file]!).length - 1;
        if (changed && !crashShaped) assert.ok('error' in r, 'a damaged history is not loaded');
        assert.deepEqual(snapshot(root), during, 'a refused history leaves every file as it was');
      });
    }),
    { numRuns: fuzzRuns(15) },
  );
});

test('the fuzzed history is the golden one', () => {
  for (const f of files) assert.equal(readFileSync(join(GOLDEN, 'transcripts', f), 'utf8'), original.get(f));
});
