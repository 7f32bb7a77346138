import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadState } from '../../src/audit/state.js';
import { unlockIdentity } from '../../src/custody/identity.js';
import { Workspace } from '../../src/fs/workspace.js';
import { SigningNode } from '../../src/node/node.js';
import { snapshot } from '../support/cli.js';
import { CUSTODIANS, everyone, keygen, lifecycleWorkspace, nodeShareFiles, shardFile } from '../support/lifecycle.js';
import { nodeDraft } from '../support/node.js';
import { nodesArg, serve, type Served } from '../support/serve.js';
import { ok, refused, type TestWorkspace } from '../support/workspace.js';

// The security review's first attack (issue 9, finding 1): someone who can write the
// workspace's public files swaps two custodians' age recipients in roster.json and in the key
// record, so that the nodes would encrypt their shares to the wrong people. Statically, every
// command refuses the swapped caches and a node never reads them; timed — a writer process
// swapping the files back and forth while real `node serve` processes export — the command
// either refuses or writes shards that open only with the right custodian's identity, tried
// with the real `age` CLI.

/** roster.json and keys/<K>.json with alice's and bob's recipients swapped, beside the genuine texts. */
function swapped(tw: TestWorkspace, keyId: string): { files: string[]; genuine: string[]; forged: string[] } {
  const files = [join(tw.root, 'roster.json'), join(tw.root, 'keys', `${keyId}.json`)];
  const genuine = files.map((f) => readFileSync(f, 'utf8'));
  const roster = JSON.parse(genuine[0]!);
  const [a, b] = ['alice', 'bob'].map((n) => roster.members.find((m: { name: string }) => m.name === n));
  [a.recipient, b.recipient] = [b.recipient, a.recipient];
  const record = JSON.parse(genuine[1]!);
  [record.parties[0].recipient, record.parties[1].recipient] = [record.parties[1].recipient, record.parties[0].recipient];
  return { files, genuine, forged: [JSON.stringify(roster, null, 2) + '\n', JSON.stringify(record, null, 2) + '\n'] };
}

/** Each custodian's age secret key in a 0600 file, for the real age CLI. */
async function ageKeys(tw: TestWorkspace): Promise<Record<string, string>> {
  const dir = tw.freshDir('age-keys');
  const out: Record<string, string> = {};
  for (const c of CUSTODIANS) {
    const id = await unlockIdentity(readFileSync(tw.identityFile(c)), tw.passphrases[c]!, c);
    out[c] = join(dir, `${c}.key`);
    writeFileSync(out[c]!, id.ageIdentity + '\n', { mode: 0o600 });
  }
  return out;
}

/** Whether `age -d -i key` opens `file`, and what it holds if so. */
function ageOpens(key: string, file: string): any {
  const r = spawnSync('age', ['-d', '-i', key, file], { encoding: 'utf8' });
  return r.status === 0 ? JSON.parse(r.stdout) : null;
}

/** Every shard opens with its own custodian's identity, and with no other custodian's. */
function assertShardsOpenOnlyForTheirCustodians(tw: TestWorkspace, keyId: string, keys: Record<string, string>): void {
  for (const [i, c] of CUSTODIANS.entries()) {
    const inside = ageOpens(keys[c]!, shardFile(tw, c, keyId));
    assert.ok(inside, `${c}'s shard does not open with ${c}'s identity`);
    assert.deepEqual([inside.custodian, inside.party], [c, `node-${i + 1}`]);
    for (const other of CUSTODIANS.filter((x) => x !== c)) assert.equal(ageOpens(keys[other]!, shardFile(tw, c, keyId)), null, `${c}'s shard opens with ${other}'s identity`);
  }
}

test('the static swap: refused by every command, and a node never reads the files', async () => {
  const tw = await lifecycleWorkspace();
  const k = await keygen(tw, 'ed25519', []);
  const s = swapped(tw, k.keyId);
  const before = snapshot(tw.root);
  writeFileSync(s.files[0]!, s.forged[0]!);
  refused(await tw.kr(['export', '--json', '--key', k.keyId, '--delete-after-export', ...everyone(tw)]), 1, 'ROSTER_MISMATCH', [s.files[0]!]);
  writeFileSync(s.files[0]!, s.genuine[0]!);
  writeFileSync(s.files[1]!, s.forged[1]!);
  refused(await tw.kr(['export', '--json', '--key', k.keyId, '--delete-after-export', ...everyone(tw)]), 1, 'KEY_RECORD_MISMATCH', [s.files[1]!]);
  writeFileSync(s.files[1]!, s.genuine[1]!);
  assert.deepEqual(snapshot(tw.root), before, 'nothing changed');

  // A node on its own (as `node serve` runs: it folds the transcript itself) exports with both files swapped.
  s.files.forEach((f, i) => writeFileSync(f, s.forged[i]!));
  const ws = new Workspace(tw.root);
  const node = await SigningNode.open(ws, 'node-1');
  const pinned = JSON.parse(s.genuine[1]!).parties[0].recipient;
  const out = await node.exportShard({ keyId: k.keyId, epoch: 1 }, pinned, nodeDraft(await loadState(ws), '9999-export'));
  const file = join(tw.freshDir('shard'), 'alice.shard.age');
  writeFileSync(file, Buffer.from(out.shard, 'base64'));
  const keys = await ageKeys(tw);
  assert.equal(ageOpens(keys.alice!, file)?.custodian, 'alice', 'the shard opens with alice\'s identity');
  assert.equal(ageOpens(keys.bob!, file), null, 'and not with bob\'s, whose recipient the files gave');
});

test('a node refuses to export to any recipient but the pinned one: asked by the coordinator, or held by the roster in force', async () => {
  const tw = await lifecycleWorkspace();
  const k = await keygen(tw, 'ed25519', []);
  const ws = new Workspace(tw.root);
  const state = await loadState(ws);
  const [alice, bob] = [0, 1].map((i) => k.parties[i].recipient);
  const genuine = await SigningNode.open(ws, 'node-1', { state: () => state });
  await assert.rejects(genuine.exportShard({ keyId: k.keyId, epoch: 1 }, bob, nodeDraft(state)), (e: any) => e.code === 'RECIPIENT_MISMATCH' && /party node-1 .* custodian alice's recipient .* not age1/.test(e.message));
  // The fold itself never gives this (keygen.result pins the roster's recipient); a node checks anyway.
  state.requireRoster().members.find((m) => m.name === 'alice')!.recipient = bob;
  await assert.rejects(genuine.exportShard({ keyId: k.keyId, epoch: 1 }, alice, nodeDraft(state)), (e: any) => e.code === 'RECIPIENT_MISMATCH' && /party node-1 .* custodian alice/.test(e.message) && e.message.includes('roster in force'));
  assert.equal(nodeShareFiles(tw).length, 3);
});

const servers: Served[] = [];
after(() => {
  for (const s of servers) s.child.kill('SIGTERM');
});

test('the timed swap: a writer racing served nodes; the export refuses, or every shard opens only for its custodian', async (t) => {
  const tw = await lifecycleWorkspace();
  for (const n of ['node-1', 'node-2', 'node-3']) servers.push(await serve(tw.root, n));
  const nodes = nodesArg(servers);
  const k = ok(await tw.kr(['keygen', '--json', '--engine', 'bip340', '--custodians', CUSTODIANS.join(','), '--label', 'timed', '--nodes', nodes, ...everyone(tw)]));
  const s = swapped(tw, k.keyId);
  const dir = tw.freshDir('writer');
  const versions = ['roster-genuine', 'key-genuine', 'roster-forged', 'key-forged'].map((n) => join(dir, n));
  [...s.genuine, ...s.forged].forEach((text, i) => writeFileSync(versions[i]!, text));
  // The writer flips both files between forged (for 1-10 ms) and genuine (for 1-40 ms) until it
  // is stopped, so the swap lands at every point of the ceremony, the node's reads included.
  const script = `const fs = require('node:fs'); const [rf, kf, rg, kg, ro, ko] = process.argv.slice(1);
    const texts = [[fs.readFileSync(ro), fs.readFileSync(ko), 10], [fs.readFileSync(rg), fs.readFileSync(kg), 40]];
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; ; i++) { const [r, k, ms] = texts[i % 2]; fs.writeFileSync(rf, r); fs.writeFileSync(kf, k); Atomics.wait(pause, 0, 0, 1 + Math.random() * ms); }`;
  const writer = spawn(process.execPath, ['-e', script, ...s.files, ...versions], { stdio: 'ignore' });
  const codes: string[] = [];
  let done: any;
  try {
    for (let attempt = 0; attempt < 20 && !done; attempt++) {
      const r = await tw.kr(['export', '--json', '--key', k.keyId, '--delete-after-export', '--nodes', nodes, ...everyone(tw)]);
      if (r.code === 0) done = ok(r);
      else {
        codes.push(refused(r, 1, r.json?.error?.code).error.code);
        assert.equal(nodeShareFiles(tw).length, 3, 'a refused export deletes nothing');
      }
    }
  } finally {
    writer.kill('SIGKILL');
    await new Promise((res) => writer.once('exit', res));
  }
  t.diagnostic(`refused ${codes.length} time(s) before the export went through: ${codes.join(', ') || 'none'}`);
  for (const c of codes) assert.ok(['ROSTER_MISMATCH', 'KEY_RECORD_MISMATCH'].includes(c), `refused with ${c}`);
  assert.ok(done, `no export went through in 20 attempts (refusals: ${codes.join(', ')})`);
  assert.equal(done.nodesEmpty, true);
  assert.deepEqual(nodeShareFiles(tw), []);
  assertShardsOpenOnlyForTheirCustodians(tw, k.keyId, await ageKeys(tw));
  s.files.forEach((f, i) => writeFileSync(f, s.genuine[i]!));
  ok(await tw.kr(['audit', 'verify', '--json']), 'the history verifies once the genuine caches are back');
  execFileSync('age', ['--version']); // the interop peer is the real age
});
