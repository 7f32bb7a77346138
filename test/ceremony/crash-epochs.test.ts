import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { loadState } from '../../src/audit/state.js';
import { Workspace } from '../../src/fs/workspace.js';
import { crashTable, exportedAndDeleted, finishExport, movedAside, neverNeither, owedAttestations, type CrashCase, type Crashed } from '../support/crash.js';
import { everyone, keygen, lifecycleWorkspace, shardFile } from '../support/lifecycle.js';
import { ok, type TestWorkspace } from '../support/workspace.js';

// docs/ARCHITECTURE.md §8 for the epoch changes (issue 10, crash safety): refresh, reshare and
// repair killed by SIGKILL at every step boundary of a successful run (test/support/crash.ts).
// Until the result is on record the old epoch stands, every party with its receipted shard;
// after it, every party of the new epoch has its node's share or a complete, receipted shard.
// Re-running the command (before the result) or the export (after it) finishes the job, the key
// still signs, and audit verify passes and names the interruption.

const exportArgs = (tw: TestWorkspace, keyId: string): string[] => ['export', '--json', '--key', keyId, '--delete-after-export', ...everyone(tw)];
const epochNow = async (tw: TestWorkspace, keyId: string): Promise<number> => (await loadState(new Workspace(tw.root))).key(keyId).epoch;
const recorded = (c: Crashed, step: string): boolean => c.entries.some((e) => e.step === step);

/** A row for an operation that moves `key` to epoch 2 with `step` as its result. */
function epochRow(name: string, result: string, command: (tw: TestWorkspace, keyId: string) => string[]): CrashCase {
  let keyId = '';
  const row: CrashCase = {
    name,
    async setup() {
      const tw = await lifecycleWorkspace();
      keyId = (await keygen(tw, 'ed25519')).keyId;
      return tw;
    },
    command: (tw) => command(tw, keyId),
    async invariants(c) {
      assert.equal(await epochNow(c.tw, keyId), recorded(c, result) ? 2 : 1, `the key moves to epoch 2 exactly with ${result}`);
      await neverNeither(c.tw, keyId);
    },
    // Before the result the old epoch stands: the operation runs again; after it the export finishes.
    finish: async (c) => (recorded(c, result) ? finishExport(c, keyId, exportArgs(c.tw, keyId)) : command(c.tw, keyId)),
    async after(c, finished, interruption) {
      if (recorded(c, result)) {
        owedAttestations(c, interruption);
        movedAside(c, finished);
      }
      assert.equal(await epochNow(c.tw, keyId), 2);
      await exportedAndDeleted(c.tw, keyId);
      ok(await c.tw.kr(['sign', '--json', '--key', keyId, '--signer', 'alice', '--signer', 'bob', '--message-hex', 'c0ffee', ...everyone(c.tw)]), 'sign after the crash');
    },
  };
  return row;
}

const refresh = epochRow('refresh', 'refresh.result', (tw, keyId) => ['refresh', '--json', '--key', keyId, '--approvers', 'bob,carol', ...everyone(tw)]);
const reshare = epochRow('reshare', 'reshare.result', (tw, keyId) => ['reshare', '--json', '--key', keyId, '--custodians', 'alice,bob', '--threshold', '2', '--dealers', 'bob,carol', '--approvers', 'bob,carol', ...everyone(tw)]);

let repairKey = '';
const repairArgs = (tw: TestWorkspace): string[] => ['repair', '--json', '--key', repairKey, '--custodian', 'alice', '--helpers', 'bob,carol', '--approvers', 'bob,carol', ...everyone(tw)];
const repair: CrashCase = {
  name: 'repair',
  async setup() {
    const tw = await lifecycleWorkspace();
    repairKey = (await keygen(tw, 'ed25519')).keyId;
    rmSync(shardFile(tw, 'alice', repairKey)); // lost
    return tw;
  },
  command: repairArgs,
  // Before repair.share alice's party is as lost as it was; after it her node holds the share again.
  invariants: async (c) => void (await neverNeither(c.tw, repairKey, recorded(c, 'repair.share') ? {} : { except: 'alice' })),
  finish: async (c) => (recorded(c, 'repair.share') ? finishExport(c, repairKey, exportArgs(c.tw, repairKey)) : repairArgs(c.tw)),
  async after(c, finished, interruption) {
    if (recorded(c, 'repair.share')) {
      owedAttestations(c, interruption);
      movedAside(c, finished);
    }
    assert.equal(await epochNow(c.tw, repairKey), 1, 'a repair changes no epoch');
    await exportedAndDeleted(c.tw, repairKey);
    ok(await c.tw.kr(['sign', '--json', '--key', repairKey, '--signer', 'alice', '--signer', 'bob', '--message-hex', 'c0ffee', ...everyone(c.tw)]), 'alice signs after the repair');
  },
};

const TABLE: CrashCase[] = [refresh, reshare, repair];

for (const row of TABLE) test(`${row.name}: killed at every step boundary`, { concurrency: 2 }, (t) => crashTable(t, row));
