import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadState } from '../../src/audit/state.js';
import { Workspace } from '../../src/fs/workspace.js';
import type { Run } from '../support/cli.js';
import { crashTable, exportedAndDeleted, finishExport, movedAside, neverNeither, owedAttestations, type CrashCase, type Crashed } from '../support/crash.js';
import { CUSTODIANS, everyone, keygen, lifecycleWorkspace } from '../support/lifecycle.js';
import { ok, type TestWorkspace } from '../support/workspace.js';

// docs/ARCHITECTURE.md §8 through the CLI: each command is killed by SIGKILL at every step
// boundary of a successful run (test/support/crash.ts). Afterwards every party has the node's
// share or a complete, recorded and receipted shard (never neither); signing leaves no share on
// a node; the job finishes; audit verify passes and names the interrupted ceremony.

const exportArgs = (tw: TestWorkspace, keyId: string): string[] => ['export', '--json', '--key', keyId, '--delete-after-export', ...everyone(tw)];

const keyOf = (c: Crashed): string | undefined => c.entries.find((e) => e.step === 'keygen.result')?.result.keyId;

const keygenExport: CrashCase = {
  name: 'keygen --export --delete-after-export',
  setup: () => lifecycleWorkspace(),
  command: (tw) => ['keygen', '--json', '--engine', 'ed25519', '--custodians', CUSTODIANS.join(','), '--label', 'crash', '--export', '--delete-after-export', ...everyone(tw)],
  async invariants(c) {
    const keyId = keyOf(c);
    if (keyId) await neverNeither(c.tw, keyId);
    else assert.equal((await loadState(new Workspace(c.tw.root))).keys.size, 0, 'no key is recorded before keygen.result');
  },
  // Before keygen.result there is no key: the keygen runs again; after it, the export finishes it.
  finish: async (c) => {
    const keyId = keyOf(c);
    return keyId ? finishExport(c, keyId, exportArgs(c.tw, keyId)) : keygenExport.command(c.tw);
  },
  async after(c, finished: Run | null, interruption) {
    owedAttestations(c, interruption);
    if (keyOf(c)) movedAside(c, finished);
    await exportedAndDeleted(c.tw, keyOf(c) ?? finished!.json.keyId);
  },
};

let exportKey = '';
const exportDelete: CrashCase = {
  name: 'export --delete-after-export',
  async setup() {
    const tw = await lifecycleWorkspace();
    exportKey = (await keygen(tw, 'ed25519', [])).keyId;
    return tw;
  },
  command: (tw) => exportArgs(tw, exportKey),
  invariants: async (c) => void (await neverNeither(c.tw, exportKey)),
  finish: (c) => finishExport(c, exportKey, exportArgs(c.tw, exportKey)),
  async after(c, finished, interruption) {
    owedAttestations(c, interruption);
    movedAside(c, finished);
    await exportedAndDeleted(c.tw, exportKey);
  },
};

let signKey = '';
const signArgs = (tw: TestWorkspace): string[] => ['sign', '--json', '--key', signKey, '--signer', 'alice', '--signer', 'bob', '--message-hex', 'c0ffee', ...everyone(tw)];
const sign: CrashCase = {
  name: 'sign',
  async setup() {
    const tw = await lifecycleWorkspace();
    signKey = (await keygen(tw, 'ed25519')).keyId;
    return tw;
  },
  command: signArgs,
  // The shards are the custodians' and stay so; the nodes held the shares only in memory.
  invariants: (c) => exportedAndDeleted(c.tw, signKey),
  // The key still signs, whether or not the crashed ceremony was sealed.
  finish: async (c) => signArgs(c.tw),
  async after(c, finished, interruption) {
    assert.match(ok(finished!).signature, /^[0-9a-f]{128}$/);
    owedAttestations(c, interruption);
    await exportedAndDeleted(c.tw, signKey);
  },
};

// One row per command; rotate, refresh, reshare and repair are added here.
const TABLE: CrashCase[] = [keygenExport, exportDelete, sign];

for (const row of TABLE) test(`${row.name}: killed at every step boundary`, { concurrency: 2 }, (t) => crashTable(t, row));
