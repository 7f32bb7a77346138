import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { snapshot } from '../support/cli.js';
import { everyone, keygen, lifecycleWorkspace, shardFile } from '../support/lifecycle.js';
import { ok, refused } from '../support/workspace.js';

// roster.json and keys/<keyId>.json are caches of the signed transcript (docs/ARCHITECTURE.md,
// "The fold"): a swapped recipient in roster.json, or a reassigned party in a key record, is
// refused by every command — with nothing changed and the file left as evidence — and a removed
// cache is simply written again from the transcript.

test('a cache that differs from the transcript is refused and kept; a removed one is written again', async () => {
  const tw = await lifecycleWorkspace();
  const k = await keygen(tw, 'ed25519', ['--export']);
  const rosterFile = join(tw.root, 'roster.json');
  const genuine = readFileSync(rosterFile, 'utf8');

  // An attacker swaps alice's and bob's recipients.
  const roster = JSON.parse(genuine);
  const [alice, bob] = ['alice', 'bob'].map((n) => roster.members.find((m: { name: string }) => m.name === n));
  [alice.recipient, bob.recipient] = [bob.recipient, alice.recipient];
  writeFileSync(rosterFile, JSON.stringify(roster, null, 2) + '\n');
  const before = snapshot(tw.root);
  refused(await tw.kr(['roster', 'show', '--json']), 1, 'ROSTER_MISMATCH', [rosterFile]);
  refused(await tw.kr(['keygen', '--json', '--engine', 'ed25519', '--custodians', 'alice,bob,carol', '--label', 'x', ...everyone(tw)]), 1, 'ROSTER_MISMATCH', [rosterFile]);
  assert.deepEqual(snapshot(tw.root), before, 'nothing changed, and the tampered file is kept');

  rmSync(rosterFile);
  const shown = ok(await tw.kr(['roster', 'show', '--json']));
  assert.equal(shown.roster.members.find((m: { name: string }) => m.name === 'alice').recipient, JSON.parse(genuine).members.find((m: { name: string }) => m.name === 'alice').recipient);
  ok(await tw.kr(['shard', 'check', '--json', '--key', k.keyId, '--custodian', 'alice', ...tw.passArgs('alice')]));
  assert.equal(readFileSync(rosterFile, 'utf8'), genuine, 'the next ceremony wrote the cache again from the transcript');

  // The key record's party assignment rewritten: bob's party given to carol.
  const keyFile = join(tw.root, 'keys', `${k.keyId}.json`);
  const record = JSON.parse(readFileSync(keyFile, 'utf8'));
  record.parties[1].custodian = 'carol';
  writeFileSync(keyFile, JSON.stringify(record, null, 2));
  const again = snapshot(tw.root);
  refused(await tw.kr(['key', 'show', '--json', '--key', k.keyId]), 1, 'KEY_RECORD_MISMATCH', [keyFile]);
  refused(await tw.kr(['shard', 'check', '--json', '--key', k.keyId, '--custodian', 'bob', '--shard', `bob=${shardFile(tw, 'bob', k.keyId)}`, ...tw.passArgs('bob')]), 1, 'KEY_RECORD_MISMATCH', [keyFile]);
  assert.deepEqual(snapshot(tw.root), again);
});
