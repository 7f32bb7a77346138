import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import { GOLDEN } from '../../fixtures/golden.js';
import { loadState } from '../../src/audit/state.js';
import { recall } from '../../src/audit/memo.js';
import { Verifier } from '../../src/audit/verify.js';
import { byCeremonyOrder, ceremonyFiles } from '../../src/evidence/chain.js';
import { Workspace } from '../../src/fs/workspace.js';
import { tempDir } from '../support/cli.js';

// The verified-state memo (src/audit/memo.ts): a load goes on from the remembered verification
// only when every byte it covers is unchanged and the memo is this build's; the state it yields
// is the state a full fold yields; what is new is verified as always.

/** A copy of the golden workspace, and a memo directory of its own (so the test's memo is the only one). */
function goldenCopy(): { ws: Workspace; files: () => string[] } {
  process.env.XDG_STATE_HOME = tempDir('keyrite-memo-state-');
  const root = join(tempDir(), 'ws');
  cpSync(GOLDEN, root, { recursive: true });
  const ws = new Workspace(root);
  return { ws, files: () => byCeremonyOrder(ceremonyFiles(ws.transcriptsDir)) };
}

async function fullFold(root: string, files: string[]) {
  const v = new Verifier({ files, root, artifacts: false });
  await v.run();
  return v.state;
}

const memoFile = (): string => {
  const dir = join(process.env.XDG_STATE_HOME!, 'keyrite', 'verified');
  const [f, ...more] = readdirSync(dir);
  assert.equal(more.length, 0, 'one memo');
  return join(dir, f!);
};

test('a state resumed from the memo is the state a full fold yields', async () => {
  const { ws, files } = goldenCopy();
  assert.equal(recall(ws.root, files()), undefined, 'no memo before the first load');
  await loadState(ws);
  const resume = recall(ws.root, files())?.resume;
  assert.equal(resume?.files, files().length, 'the memo covers every (closed) ceremony');
  assert.deepStrictEqual(await loadState(ws), await fullFold(ws.root, files()));
});

test('a transcript byte changed after the memo means a full verification, which refuses it', async () => {
  const { ws, files } = goldenCopy();
  await loadState(ws);
  const target = files()[2]!;
  const text = readFileSync(target, 'utf8');
  // Same size: one character of the first signature changed.
  const at = text.indexOf('"sig":"') + 10;
  writeFileSync(target, text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1));
  assert.equal(recall(ws.root, files())?.resume, undefined);
  await assert.rejects(loadState(ws), (e: Error & { code?: string }) => e.code === 'TRANSCRIPT_DAMAGED' && e.message.includes(target.split('/').pop()!));
});

test('what was appended since the memo is verified: a forged new ceremony is refused', async () => {
  const { ws, files } = goldenCopy();
  await loadState(ws);
  const last = files().at(-1)!;
  // A copy of the last ceremony under the next number: right form, wrong chain (its prev is not the head).
  const forged = join(ws.transcriptsDir, `999999-${last.split('/').pop()!.replace(/^\d+-/, '')}`);
  writeFileSync(forged, readFileSync(last));
  assert.equal(recall(ws.root, files())?.resume?.files, files().length - 1, 'the memo still covers the history before it');
  await assert.rejects(loadState(ws), (e: Error & { code?: string }) => e.code === 'TRANSCRIPT_DAMAGED' && e.message.includes('999999'));
});

test("a damaged memo, or another build's, is not used", async () => {
  const { ws, files } = goldenCopy();
  const state = await fullFold(ws.root, files());
  await loadState(ws);
  const file = memoFile();
  const doc = deserialize(readFileSync(file)) as { build: string };
  writeFileSync(file, serialize({ ...doc, build: 'another build' }));
  assert.equal(recall(ws.root, files())?.resume, undefined, "another build's memo");
  writeFileSync(file, readFileSync(file).subarray(0, 100));
  assert.equal(recall(ws.root, files()), undefined, 'a truncated memo');
  assert.deepStrictEqual(await loadState(ws), state, 'the load verifies in full instead');
});

test('a history cut after the memo verifies, but does not extend what this machine verified, and is refused', async () => {
  const { ws, files } = goldenCopy();
  await loadState(ws);
  const [last, before] = [files().at(-1)!, files().at(-2)!];
  const { rmSync } = await import('node:fs');
  rmSync(last);
  rmSync(before);
  assert.equal((await fullFold(ws.root, files())).entries > 0, true, 'the shorter history verifies on its own');
  await assert.rejects(loadState(ws), (e: Error & { code?: string }) => e.code === 'HISTORY_NOT_EXTENDED' && e.message.includes(ws.root) && e.message.includes(memoFile()));
  // A restore from a backup on purpose: the operator removes the memo, and the history loads.
  rmSync(memoFile());
  assert.equal((await loadState(ws)).head, (await fullFold(ws.root, files())).head);
});
