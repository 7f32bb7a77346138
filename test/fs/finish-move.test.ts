import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileExistsError, finishMove, removeEmptyDir } from '../../src/fs/atomic.js';
import { tempDir } from '../support/cli.js';

// finishMove (src/fs/atomic.ts) is how a rotation moves its old files aside and its new ones
// into place (src/ceremony/rotate.ts), and how a resumed rotation finishes the moves a crash cut
// short: run again, it must end where one uninterrupted run ends, and never replace a different file.

function dirWith(files: Record<string, string>): string {
  const d = tempDir('keyrite-move-');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text, { mode: 0o600 });
  return d;
}

test('moves a file, into a directory it creates; run again, it has nothing to move', () => {
  const d = dirWith({ a: 'old identity' });
  const to = join(d, 'retired', 'a');
  assert.equal(finishMove(join(d, 'a'), to), true);
  assert.equal(readFileSync(to, 'utf8'), 'old identity');
  assert.equal(existsSync(join(d, 'a')), false);
  assert.equal(finishMove(join(d, 'a'), to), false);
  assert.equal(readFileSync(to, 'utf8'), 'old identity');
});

test('a crash between link and unlink (the same bytes at both ends) is finished by unlinking the source', () => {
  const d = dirWith({ a: 'new shard' });
  mkdirSync(join(d, 'in-place'));
  linkSync(join(d, 'a'), join(d, 'in-place', 'a'));
  assert.equal(finishMove(join(d, 'a'), join(d, 'in-place', 'a')), true);
  assert.equal(existsSync(join(d, 'a')), false);
  assert.equal(readFileSync(join(d, 'in-place', 'a'), 'utf8'), 'new shard');
});

test('a different file at the destination is never replaced', () => {
  const d = dirWith({ a: 'new shard', b: 'something else' });
  assert.throws(() => finishMove(join(d, 'a'), join(d, 'b')), (e) => e instanceof FileExistsError && e.message.includes(join(d, 'b')));
  assert.equal(readFileSync(join(d, 'a'), 'utf8'), 'new shard');
  assert.equal(readFileSync(join(d, 'b'), 'utf8'), 'something else');
});

test('removeEmptyDir removes an emptied directory and keeps one that still holds a file', () => {
  const d = dirWith({});
  mkdirSync(join(d, 'empty'));
  mkdirSync(join(d, 'kept'));
  writeFileSync(join(d, 'kept', 'x.unrecorded'), 'set aside');
  removeEmptyDir(join(d, 'empty'));
  removeEmptyDir(join(d, 'kept'));
  removeEmptyDir(join(d, 'never-made'));
  assert.equal(existsSync(join(d, 'empty')), false);
  assert.equal(readFileSync(join(d, 'kept', 'x.unrecorded'), 'utf8'), 'set aside');
});
