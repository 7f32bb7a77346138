import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { pgpWords } from '../../src/base/pgpwords.js';
import { loadState } from '../../src/audit/state.js';
import { Workspace } from '../../src/fs/workspace.js';
import { newRequest, requestDigest, type ApprovalRequest } from '../../src/state/approval-request.js';
import { snapshot, type Run } from '../support/cli.js';
import { makeWorkspace, ok, readJsonFile, refused, type TestWorkspace } from '../support/workspace.js';
import { steps } from '../support/lifecycle.js';

// keyrite approve through the CLI (CEREMONY.md, "Approvals"): a custodian approves one exact
// request, shown as its digest in hex and PGP words, at the laptop or into a file the
// generator records later; and the refusal table — a request from another history, after its
// expiry, from its target, twice, a swapped request inside an approval file, a replayed file,
// a recovery below quorum — each with exit 1, its code, the names it must say, and nothing on
// disk changed (the transcript included: every refusal comes before the ceremony opens).

let tw: TestWorkspace; // alice (custodian with guardians g1..g3), bob and carol approve
let head: string;
let n = 0;

const HOUR = 3600_000;

function requestFile(r: ApprovalRequest): string {
  const f = join(tw.base, `request-${n++}.json`);
  writeFileSync(f, JSON.stringify(r, null, 2) + '\n');
  return f;
}

const recovery = (o: Partial<ApprovalRequest> = {}, ttl = HOUR): ApprovalRequest => ({
  ...newRequest({ operation: 'recover-custodian', target: 'alice', parameters: { setId: 'set-1' }, head }, new Date(), ttl),
  ...o,
});

const approve = (file: string, approver: string, more: string[] = []): Promise<Run> =>
  tw.kr(['approve', '--json', '--request', file, '--approver', approver, ...tw.passArgs(approver), ...more]);

const record = (...files: string[]): Promise<Run> => tw.kr(['approve', '--json', ...files.flatMap((f) => ['--approval', f]), ...tw.passArgs(tw.generator)]);

/** Runs `run`, asserts the refusal, and that not one byte under the workspace changed. */
async function refusedUnchanged(run: () => Promise<Run>, code: string, mentions: string[]): Promise<void> {
  const before = snapshot(tw.root);
  refused(await run(), 1, code, mentions);
  assert.deepEqual(snapshot(tw.root), before, 'a refused approval changed the workspace');
}

before(async () => {
  tw = await makeWorkspace();
  head = (await loadState(new Workspace(tw.root))).head!;
});

describe('keyrite approve', { concurrency: 1 }, () => {
  test('at the laptop: the digest in hex and PGP words, one approval entry signed by the approver', async () => {
    const r = recovery();
    const digest = requestDigest(r);
    const out = ok(await approve(requestFile(r), 'bob'));
    assert.equal(out.digest, digest);
    assert.equal(out.words, pgpWords(digest));
    const recorded = steps(tw, out.ceremony);
    assert.deepEqual(recorded.map((e) => e.step), ['ceremony.start', 'checklist.confirm', 'checklist.confirm', 'approval', 'ceremony.seal']);
    const entry = recorded.find((e) => e.step === 'approval')!;
    assert.equal(entry.actor, 'bob');
    assert.equal(entry.params.approval.digest, digest);
    assert.ok(ok(await tw.kr(['audit', 'verify', '--json'])).ok);
  });

  test('on the approver\'s device: --out writes the signed approval, which the generator records', async () => {
    const r = recovery();
    const file = join(tw.freshDir('carol'), 'carol.approval.json');
    const before = snapshot(tw.root);
    const out = ok(await approve(requestFile(r), 'carol', ['--out', file]));
    assert.equal(out.file, file);
    assert.deepEqual(snapshot(tw.root), before, '--out records nothing in the workspace');
    assert.equal(readJsonFile(file).approver, 'carol');
    const rec = ok(await record(file));
    const entry = steps(tw, rec.ceremony).find((e) => e.step === 'approval')!;
    assert.equal(entry.actor, tw.generator, 'the generator records it');
    assert.equal(entry.params.approval.approver, 'carol', 'carol\'s own signature is inside');
    refused(await record(file), 1, 'APPROVAL_USED', ['carol', 'already approved']);
    assert.ok(ok(await tw.kr(['audit', 'verify', '--json'])).ok);
  });

  describe('refusal table', { concurrency: 1 }, () => {
    test('a request made at a head of another history', async () => {
      const f = requestFile(recovery({ head: 'b'.repeat(64) }));
      await refusedUnchanged(() => approve(f, 'bob'), 'WRONG_REQUEST', ['bob', 'recover-custodian of alice', 'not a line of this history']);
    });

    test('after its expiry', async () => {
      const f = requestFile(recovery({}, -1000));
      await refusedUnchanged(() => approve(f, 'bob'), 'APPROVAL_EXPIRED', ['bob', 'after the request expired']);
    });

    test('from its target', async () => {
      const f = requestFile(recovery());
      await refusedUnchanged(() => approve(f, 'alice'), 'NOT_PERMITTED', ['alice', 'is the target of recover-custodian']);
    });

    test('from someone the roster change it asks for removes', async () => {
      const f = requestFile(recovery({ operation: 'roster-change', target: 'bob', parameters: { change: { op: 'remove', name: 'carol' } } }));
      await refusedUnchanged(() => approve(f, 'carol'), 'NOT_PERMITTED', ['carol', 'replaced or removed']);
    });

    test('from someone who is not a custodian', async () => {
      const f = requestFile(recovery());
      await refusedUnchanged(() => approve(f, tw.witness), 'WRONG_ROLE', [tw.witness, 'custodian']);
    });

    test('twice by the same approver', async () => {
      const f = requestFile(recovery());
      ok(await approve(f, 'bob'));
      await refusedUnchanged(() => approve(f, 'bob'), 'APPROVAL_USED', ['bob', 'already approved']);
    });

    test('a swapped request inside an approval file: altered, or re-pointed under the old signature', async () => {
      const file = join(tw.freshDir('swap'), 'bob.approval.json');
      ok(await approve(requestFile(recovery()), 'bob', ['--out', file]));
      const a = readJsonFile(file);
      const altered = join(tw.base, `altered-${n++}.json`);
      writeFileSync(altered, JSON.stringify({ ...a, request: { ...a.request, target: 'carol' } }));
      await refusedUnchanged(() => record(altered), 'WRONG_REQUEST', ['bob', 'it was altered']);
      const other = recovery({ target: 'carol' });
      const repointed = join(tw.base, `repointed-${n++}.json`);
      writeFileSync(repointed, JSON.stringify({ ...a, request: other, digest: requestDigest(other) }));
      await refusedUnchanged(() => record(repointed), 'BAD_SIGNATURE', ['bob', 'not signed by bob']);
    });

    test('a recovery below quorum', async () => {
      const out = tw.freshDir('below');
      const args = ['recover', 'custodian', '--custodian', 'alice', '--json', '--share', `g1=${tw.shareFile('g1', 'alice')}`, '--share', `g2=${tw.shareFile('g2', 'alice')}`];
      await refusedUnchanged(
        () => tw.kr([...args, ...tw.passArgs('g1', 'g2', tw.generator, tw.witness, 'bob'), '--passphrase-file', `alice=${tw.extraPassphrase('alice', 'new')}`, '--approvers', 'bob', '--out', out]),
        'QUORUM_NOT_MET',
        ['1 approver', 'alice', 'needs 2'],
      );
    });
  });
});
