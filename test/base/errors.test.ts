import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES, KeyriteError } from '../../src/base/errors.js';

// README's error table is the operator's copy of the code table in src/base/errors.ts: every
// code the tool can return is listed there, and nothing is listed that the tool cannot return.

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function readmeCodes(): Map<string, string> {
  const section = readme.split('### Error codes')[1]?.split('\n## ')[0] ?? '';
  const codes = new Map<string, string>();
  for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const [names, meaning] = row.slice(1).split(' | ');
    for (const m of names!.matchAll(/`([A-Z_]+)`/g)) codes.set(m[1]!, meaning ?? '');
  }
  return codes;
}

test('README lists every error code of the table, and no other', () => {
  const listed = readmeCodes();
  const table = Object.keys(ERROR_CODES);
  assert.deepEqual(table.filter((c) => !listed.has(c)), [], 'codes missing from README');
  assert.deepEqual([...listed.keys()].filter((c) => !table.includes(c)), [], 'README codes the tool never returns');
});

test('README marks exactly the exit-2 codes as usage errors', () => {
  for (const [code, meaning] of readmeCodes()) {
    const exit = ERROR_CODES[code as keyof typeof ERROR_CODES]?.exit;
    assert.equal(meaning.includes('(exit 2)'), exit === 2, `${code}: README says ${meaning.includes('(exit 2)') ? '' : 'not '}exit 2; the table says ${exit}`);
  }
});

test('an error takes its exit status from the table and keeps its cause', () => {
  const cause = new Error('ENOSPC');
  const e = new KeyriteError('USAGE', 'bad', { cause });
  assert.equal(e.exit, 2);
  assert.equal(e.cause, cause);
  assert.equal(new KeyriteError('DAMAGED_FILE', 'x').exit, 1);
});
