import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { ceremonyFiles } from '../../src/evidence/chain.js';
import { generate } from '../../fixtures/generate.js';
import { GOLDEN, PEOPLE } from '../../fixtures/golden.js';
import { readLines, statementOf } from '../../fixtures/chain-tools.js';
import { allFiles, tempDir } from '../support/cli.js';

// The committed golden workspace is what the product writes today: the generator, run again
// through the real CLI, yields the same ceremonies, the same steps by the same actors with as
// many signatures, and the same files. Keys, key ids, session ids and times differ from run to
// run, so they are not compared. When this fails after a change to what the product records,
// regenerate: node --import tsx fixtures/generate.ts

/** Key ids and session ids, which are fresh on every run, as placeholders. */
const normalise = (text: string): string => text.replace(/k[0-9a-f]{16}/g, 'KEYID').replace(/[0-9a-f]{16}/g, 'SESSION');

function shape(root: string): { transcripts: string[]; files: string[] } {
  const transcripts = ceremonyFiles(join(root, 'transcripts')).flatMap((file) =>
    readLines(file).map((line) => {
      const p = statementOf(line).predicate;
      return `${relative(root, file)} ${p.seq} ${p.step} by ${p.actor} (${JSON.parse(line).signatures.length} signatures)`;
    }),
  );
  const files = allFiles(root).map((f) => normalise(relative(root, f.path))).sort();
  return { transcripts, files };
}

test('the committed golden workspace has the shape the product writes today', { timeout: 5 * 60_000 }, async () => {
  const base = tempDir('keyrite-regenerate-');
  const root = join(base, 'golden');
  await generate(root, join(base, 'people'));
  const fresh = shape(root);
  const committed = shape(GOLDEN);
  assert.deepEqual(committed.transcripts, fresh.transcripts, 'the transcripts differ from what the product writes now: regenerate the fixture');
  assert.deepEqual(committed.files, fresh.files, 'the workspace files differ from what the product writes now: regenerate the fixture');
  assert.deepEqual(allFiles(PEOPLE).map((f) => relative(PEOPLE, f.path)).sort(), allFiles(join(base, 'people')).map((f) => relative(join(base, 'people'), f.path)).sort());
});
