import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadFixtureKeys, readChain, writeChain } from '../../fixtures/chain-tools.js';
import { snapshot } from '../support/cli.js';
import { everyone, keygen, lifecycleWorkspace, shardFile } from '../support/lifecycle.js';
import { assertUnchanged, refused, type TestWorkspace } from '../support/workspace.js';

// Malformed inputs of every kind end in a clear code (exit 1 or 2) within seconds, never
// INTERNAL, and leave every file as it was (docs/ARCHITECTURE.md §8): shapes in signed entries
// the fold cannot use, a directory or device where a file belongs, a message over the cap
// (refused before anyone unlocks), and names and ids that would reach outside the workspace.

const SECONDS = 10_000;

/** Runs `args` and checks the refusal, its speed, and that nothing under the workspace changed. */
async function refusedQuickly(tw: TestWorkspace, args: string[], exit: number, code: string, mentions: string[] = []): Promise<void> {
  const before = snapshot(tw.root);
  const t0 = Date.now();
  const r = await tw.kr([...args, '--json']);
  assert.ok(Date.now() - t0 < SECONDS, `${args.join(' ')} took ${Date.now() - t0} ms`);
  refused(r, exit, code, mentions);
  assertUnchanged(before, snapshot(tw.root), tw.root);
}

/** A copy of `tw` whose chain is rewritten by `edit` and signed afresh with the real keys. */
async function crafted(tw: TestWorkspace, edit: (entries: ReturnType<typeof readChain>) => void): Promise<TestWorkspace> {
  const copy = tw.clone();
  const entries = readChain(copy.root, await loadFixtureKeys(copy.root, copy.secretsDir));
  edit(entries);
  writeChain(copy.root, entries);
  return copy;
}

describe('malformed inputs', () => {
  let tw: TestWorkspace;
  let keyId: string;

  test('set-up: a workspace with one exported key', async () => {
    tw = await lifecycleWorkspace();
    keyId = (await keygen(tw, 'ed25519')).keyId;
  });

  test('signed entries whose shapes the fold cannot use: a roster without policy, members [null], parties [null]', async () => {
    const cases: [string, (e: ReturnType<typeof readChain>) => void, string][] = [
      ['no policy', (e) => delete (e[0]!.statement.predicate.params as any).roster.policy, 'no policy'],
      ['members [null]', (e) => ((e[0]!.statement.predicate.params as any).roster.members = [null]), 'genesis member 1'],
      ['parties [null]', (e) => {
        const k = e.find((x) => x.statement.predicate.step === 'keygen.result')!;
        (k.statement.predicate.result as any).record.parties = [null];
      }, 'parties'],
    ];
    for (const [, edit, mention] of cases) {
      const bad = await crafted(tw, edit);
      await refusedQuickly(bad, ['key', 'list'], 1, 'TRANSCRIPT_DAMAGED', [mention]);
      await refusedQuickly(bad, ['shard', 'check', '--custodian', 'alice', '--key', keyId, ...bad.passArgs('alice')], 1, 'TRANSCRIPT_DAMAGED', [mention]);
    }
  });

  test('a directory where a transcript, a shard, a store file or a passphrase file belongs', async () => {
    const dirTranscript = tw.clone();
    const last = readdirSync(join(dirTranscript.root, 'transcripts')).filter((f) => f.endsWith('.jsonl')).sort().at(-1)!;
    rmSync(join(dirTranscript.root, 'transcripts', last));
    mkdirSync(join(dirTranscript.root, 'transcripts', last));
    await refusedQuickly(dirTranscript, ['key', 'list'], 1, 'TRANSCRIPT_DAMAGED', [last, 'a directory']);
    await refusedQuickly(dirTranscript, ['audit', 'verify'], 1, 'VERIFY_FAILED', [last, 'a directory']);

    await refusedQuickly(tw, ['shard', 'check', '--custodian', 'alice', '--key', keyId, '--shard', `alice=${tw.base}`, ...tw.passArgs('alice')], 1, 'NOT_A_FILE', ['the shard of alice', 'a directory']);
    await refusedQuickly(tw, ['shard', 'check', '--custodian', 'alice', '--key', keyId, '--passphrase-file', `alice=${tw.base}`], 1, 'NOT_A_FILE', ['passphrase file for alice']);

    // A node's store: a key kept on the nodes (no export yet) whose share file is a directory.
    const kept = tw.clone();
    const k2 = (await keygen(kept, 'ed25519', [])).keyId;
    const store = join(kept.root, 'nodes', 'node-1', 'shares');
    const share = readdirSync(store).find((f) => f.startsWith(k2))!;
    rmSync(join(store, share));
    mkdirSync(join(store, share));
    const before = snapshot(kept.root);
    const r = await kept.kr(['export', '--json', '--key', k2, ...everyone(kept)]);
    refused(r, 1, 'NOT_A_FILE', [share, 'a directory']);
    // The refusal is recorded as an aborted ceremony; no shard or share changed.
    const after = snapshot(kept.root);
    for (const p of [...before.keys(), ...after.keys()]) if (!p.includes('/transcripts/') && !p.endsWith('roster.json')) assert.equal(after.get(p), before.get(p), p);
  });

  test('a shard that is a symlink to /dev/zero is refused at once', async () => {
    const copy = tw.clone();
    const path = shardFile(copy, 'alice', keyId);
    rmSync(path);
    symlinkSync('/dev/zero', path);
    await refusedQuickly(copy, ['shard', 'check', '--custodian', 'alice', '--key', keyId, ...copy.passArgs('alice')], 1, 'NOT_A_FILE', ['the shard of alice', 'a device']);
    // The auditor's digest check reads it through the same reader: a failure, not a hang.
    const t0 = Date.now();
    const r = await copy.kr(['audit', 'verify', '--json']);
    assert.ok(Date.now() - t0 < SECONDS);
    const v = refused(r, 1, 'VERIFY_FAILED');
    assert.ok(v.failures.some((f: any) => f.kind === 'artifact' && /a device/.test(f.reason)), JSON.stringify(v.failures));
  });

  test('a 300 MB message is refused before anyone unlocks (no passphrase is even given)', async () => {
    const message = join(tw.base, 'huge.bin');
    writeFileSync(message, '');
    truncateSync(message, 300 * 1024 * 1024); // sparse: costs no disk
    await refusedQuickly(tw, ['sign', '--key', keyId, '--signer', 'alice', '--signer', 'bob', '--message-file', message], 1, 'TOO_LARGE', ['message file', String(1024 * 1024)]);
    await refusedQuickly(tw, ['sign', '--key', keyId, '--signer', 'alice', '--signer', 'bob', '--message-file', '/dev/zero'], 1, 'NOT_A_FILE', ['message file']);
    rmSync(message);
  });

  test('node ids, recovery session ids and custodian names are checked before any path is built', async () => {
    await refusedQuickly(tw, ['node', 'serve', '--node', '../../holdings/alice', '--listen', '127.0.0.1:0'], 2, 'BAD_NAME', ['../../holdings/alice']);
    await refusedQuickly(tw, ['recover', 'custodian', '--custodian', 'alice', '--session', '../../holdings/alice', '--released', `g1=${tw.base}/r.json`], 2, 'BAD_SESSION', ['../../holdings/alice']);
    await refusedQuickly(tw, ['shard', 'check', '--custodian', '../../x', '--key', keyId, ...tw.passArgs('alice')], 2, 'BAD_NAME', ['../../x']);
    // A name that is not on the roster is refused as such before it names a path.
    await refusedQuickly(tw, ['guardian', 'check', '--guardian', 'g1', '--custodian', '../alice'], 1, 'NOT_ENROLLED', ['../alice']);
  });
});
