import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { canonical } from '../../src/base/canonical.js';
import { unlockIdentity } from '../../src/custody/identity.js';
import { lineDigest } from '../../src/evidence/chain.js';
import { entryStatement, signStatement } from '../../src/evidence/entry.js';
import { Workspace } from '../../src/fs/workspace.js';
import { SigningNode } from '../../src/node/node.js';
import { everyone, keygen, lifecycleWorkspace, steps } from '../support/lifecycle.js';

// A node drops a share of an epoch the fold never reached (node.ts, dropUnrecorded). The
// attacker of docs/ARCHITECTURE.md §2 writes the workspace's files and may call `holdings` with
// one custodian's key (http-auth.ts): a transcript cut back to before a refresh.result, which
// still holds the head the node last signed after, must not make the node delete the only copy of
// a share the real history has moved the key to.

test('a transcript cut back to before refresh.result does not make a node drop the new epoch\'s share', async () => {
  const tw = await lifecycleWorkspace();
  const key = await keygen(tw, 'ed25519');
  // The refresh is cut short right after its result (a crash, under the test-only fault
  // variables), before any node exports: every node holds its only copy of an epoch-2 share.
  const r = await tw.kr(['refresh', '--json', '--key', key.keyId, '--approvers', 'bob,carol', ...everyone(tw)], { env: { KEYRITE_TEST_FAULTS: '1', KEYRITE_FAULT_AT: 'refresh.result' } });
  assert.equal(r.signal, 'SIGKILL', r.stdout);
  const ceremony = readdirSync(join(tw.root, 'transcripts')).find((f) => f.endsWith('-refresh.jsonl'))!.replace('.jsonl', '');
  const recorded = steps(tw, ceremony).map((s) => s.step);
  assert.equal(recorded.at(-1), 'refresh.result', recorded.join());
  // node-2 and node-3 signed nothing after their refresh.share, so the head each accepted lies before the result.
  const shares = ['node-2', 'node-3'].map((n) => join(tw.root, 'nodes', n, 'shares', `${key.keyId}.2.age`));
  assert.ok(shares.every((f) => existsSync(f)));

  const file = join(tw.root, 'transcripts', `${ceremony}.jsonl`);
  const whole = readFileSync(file, 'utf8');
  const kept = whole.split('\n').slice(0, recorded.indexOf('refresh.result'));
  writeFileSync(file, kept.join('\n') + '\n');
  for (const n of ['node-2', 'node-3']) await (await SigningNode.open(new Workspace(tw.root), n)).holdings();
  for (const f of shares) assert.ok(existsSync(f), `${f} was deleted, but the key record on record needs it`);

  // A run that really ended before its result, its ceremony aborted by its actor: the node drops the share it kept.
  const last = kept.at(-1)!;
  const p = JSON.parse(Buffer.from(JSON.parse(last).payload, 'base64').toString('utf8')).predicate;
  const generator = await unlockIdentity(readFileSync(tw.identityFile(tw.generator)), tw.passphrases[tw.generator]!, tw.generator);
  const abort = canonical(signStatement(entryStatement({ ceremony, seq: kept.length, prev: lineDigest(last), roster: p.roster, script: p.script }, tw.generator, {
    step: 'ceremony.abort', result: { code: 'INTERNAL', message: 'interrupted' },
  }), [generator]));
  writeFileSync(file, [...kept, abort].join('\n') + '\n');
  assert.deepEqual(await (await SigningNode.open(new Workspace(tw.root), 'node-3')).holdings(), []);

  // Back to the real history: with two of the three epoch-2 shares gone, the 2-of-3 key it names could never sign again.
  writeFileSync(file, whole);
  assert.ok(existsSync(shares[0]!), 'node-2 deleted its epoch-2 share, which the key record on record needs');
});
