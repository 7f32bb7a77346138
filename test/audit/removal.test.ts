import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { canonical } from '../../src/base/canonical.js';
import { parseLine } from '../../src/base/dsse.js';
import type { ErrorCode } from '../../src/base/errors.js';
import { publicOf, unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { byCeremonyOrder, ceremonyFiles, lineDigest } from '../../src/evidence/chain.js';
import { signStatement } from '../../src/evidence/entry.js';
import { parseStatement, type Statement } from '../../src/evidence/statement.js';
import { loadNodeIdentity } from '../../src/node/identity.js';
import { everyone, keygen, lifecycleWorkspace } from '../support/lifecycle.js';
import { ok, type TestWorkspace } from '../support/workspace.js';

// Issue 10's audit test: a history from which one approval, receipt or epoch-change entry is
// removed fails audit verify with the rule it breaks, not merely a broken chain. The attacker
// here holds every key that signed a line after the one removed (the generator's, the
// witness's, the nodes', the custodians': test only) and rebuilds the rest of the history
// without it — each later line renumbered, chained and re-signed by its own signers, each
// seal's entry count corrected — so that the signatures and the chain all hold (each row
// asserts no form, chain, signature, roster or script failure) and only the rule can catch it.

/** What removing an entry of each step must be reported as: the rule's code. */
const EXPECTED: Record<string, ErrorCode> = {
  approval: 'QUORUM_NOT_MET',
  'export.receipt': 'RECEIPT_MISSING',
  // Without its epoch change, the export that follows names an epoch the key never reached.
  'refresh.result': 'BAD_CHANGE',
  'reshare.result': 'BAD_CHANGE',
};

let tw: TestWorkspace; // approvals for a private-key recovery (in the room) and a retirement (from files), then receipts

/**
 * Every request is made at the head before any entry a row removes, so rewriting what follows
 * never moves a request's head out of the history: the only failure left is the rule's.
 */
before(async () => {
  tw = await lifecycleWorkspace();
  const recovered = (await keygen(tw, 'ed25519', ['--export'])).keyId;
  const retired = (await keygen(tw, 'ed25519', [])).keyId;
  const exported = (await keygen(tw, 'ed25519', [])).keyId;
  const request = join(tw.freshDir('request'), 'retire.request.json');
  ok(await tw.kr(['key', 'retire', '--json', '--key', retired, '--request-out', request, '--expires', '2h']));
  const files = ['bob', 'carol'].map((a) => {
    const f = join(tw.freshDir(a), `${a}.approval.json`);
    return { a, f };
  });
  for (const { a, f } of files) ok(await tw.kr(['approve', '--json', '--request', request, '--approver', a, '--out', f, ...tw.passArgs(a)]), `approve by ${a}`);
  const keyFile = join(tw.freshDir('recipient'), 'key.txt');
  execFileSync('age-keygen', ['-o', keyFile], { stdio: 'pipe' });
  const to = /public key: (age1[0-9a-z]+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
  const out = join(tw.freshDir('recovered'), 'key.age');
  ok(await tw.kr(['recover', 'private-key', '--json', '--key', recovered, '--to', to, '--out', out, '--custodians', 'alice,bob', '--approvers', 'bob,carol', ...everyone(tw)]), 'recover private-key');
  ok(await tw.kr(['key', 'retire', '--json', '--key', retired, ...files.flatMap(({ f }) => ['--approval', f]), ...tw.passArgs(tw.generator, tw.witness)]), 'key retire');
  ok(await tw.kr(['export', '--json', '--key', exported, '--delete-after-export', ...everyone(tw)]), 'export with deletion');
  const renewed = (await keygen(tw, 'ed25519')).keyId;
  ok(await tw.kr(['refresh', '--json', '--key', renewed, '--approvers', 'bob,carol', ...everyone(tw)]), 'refresh');
  ok(await tw.kr(['reshare', '--json', '--key', renewed, '--custodians', 'alice,bob', '--approvers', 'bob,carol', ...everyone(tw)]), 'reshare');
});

interface Line {
  file: string;
  text: string;
  statement: Statement;
  keyids: string[];
}

function history(root: string): Line[] {
  return byCeremonyOrder(ceremonyFiles(join(root, 'transcripts'))).flatMap((file) =>
    readFileSync(file, 'utf8').trim().split('\n').map((text) => {
      const env = parseLine(text);
      return { file, text, statement: parseStatement(Buffer.from(env.payload, 'base64')), keyids: env.signatures.map((s) => s.keyid) };
    }));
}

/** Everyone's signing identity by fingerprint: the people's unlocked with their passphrases, the nodes' from their homes. */
async function keyring(t: TestWorkspace): Promise<Map<string, Identity>> {
  const ids: Identity[] = [];
  for (const name of Object.keys(t.roles)) ids.push(await unlockIdentity(readFileSync(t.identityFile(name)), t.passphrases[name]!, name));
  for (const n of ['node-1', 'node-2', 'node-3']) ids.push(await loadNodeIdentity(join(t.root, 'nodes', n), n));
  return new Map(ids.map((id) => [publicOf(id).fingerprint, id]));
}

/** Rewrites `t`'s transcripts without line `drop` of the history, re-signing every line after it; those before stay as they were. */
async function rebuildWithout(t: TestWorkspace, drop: number): Promise<void> {
  const lines = history(t.root);
  const keys = await keyring(t);
  const kept = lines.filter((_, i) => i !== drop);
  const out = new Map<string, string[]>(lines.map((l) => [l.file, []]));
  let prev: string | null = null;
  for (const [i, l] of kept.entries()) {
    const p = l.statement.predicate;
    const seq = out.get(l.file)!.length;
    const statement: Statement = { ...l.statement, predicate: { ...p, seq, prev, ...(p.step === 'ceremony.seal' ? { params: { ...p.params, entries: seq + 1 } } : {}) } };
    const line = i >= drop ? canonical(signStatement(statement, l.keyids.map((k) => keys.get(k) ?? assert.fail(`no key ${k}`)))) : l.text;
    out.get(l.file)!.push(line);
    prev = lineDigest(line);
  }
  for (const [file, ls] of out) writeFileSync(file, ls.map((x) => x + '\n').join(''));
}

test('removing an approval, a receipt or an epoch change fails audit verify with the rule it breaks, not the chain', async (t) => {
  const lines = history(tw.root);
  const rows = lines.map((l, i) => ({ i, l })).filter(({ l }) => EXPECTED[l.statement.predicate.step]);
  const count = (step: string) => rows.filter(({ l }) => l.statement.predicate.step === step).length;
  // Approvals: recovery, retirement, refresh, reshare (two each); receipts: the export, the refresh (3) and the reshare (2).
  assert.deepEqual([count('approval'), count('export.receipt'), count('refresh.result'), count('reshare.result')], [8, 11, 1, 1]);

  await t.test('the history verifies before anything is removed', async () => ok(await tw.kr(['audit', 'verify', '--json'])));

  for (const { i, l } of rows) {
    const p = l.statement.predicate;
    const what = `${p.step} by ${p.actor} (${p.ceremony}, seq ${p.seq})`;
    await t.test(`without ${what}`, async () => {
      const copy = tw.clone();
      await rebuildWithout(copy, i);
      const v = await copy.kr(['audit', 'verify', '--json']);
      assert.equal(v.code, 1);
      const failures: { file: string; kind: string; code?: string; reason: string }[] = v.json.failures;
      const trust = failures.filter((f) => ['form', 'chain', 'signature', 'roster', 'script'].includes(f.kind));
      assert.deepEqual(trust, [], 'the rebuilt history holds its chain and signatures');
      const code = EXPECTED[p.step]!;
      assert.ok(failures.some((f) => f.code === code && f.file === `transcripts/${p.ceremony}.jsonl`), `expected ${code} in ${p.ceremony}; got ${JSON.stringify(failures, null, 1)}`);
    });
  }
});
