import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { publicOf, unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { newRequest, signApproval, type ApprovalRequest } from '../../src/state/approval-request.js';
import { snapshot, type Run } from './cli.js';
import { steps } from './lifecycle.js';
import { ok, readJsonFile, refused, type TestWorkspace } from './workspace.js';

// The approval refusals every sensitive act of a key shares (CEREMONY.md, "Approvals";
// src/state/approvals.ts), as one table a test file registers for its act: below quorum, the
// same approver twice, an approver who is no custodian (the key is the target; only custodians
// approve), expired, made at the head of another history, and approvals of another act's
// request. Each refusal is checked for its exit, its code, the words it names, and not one byte
// changed under the workspace. The requests are the act's own, written by its `--request-out`.

let n = 0;
const HOUR = 3600_000;

/** Runs `run`, asserts the refusal, and that not one byte under the workspace changed. */
export async function refusedUnchanged(tw: TestWorkspace, run: () => Promise<Run>, code: string, mentions: string[], exit = 1): Promise<any> {
  const before = snapshot(tw.root);
  const out = refused(await run(), exit, code, mentions);
  assert.deepEqual(snapshot(tw.root), before, `a refusal (${code}) changed the workspace`);
  return out;
}

export const withFiles = (files: string[]): string[] => files.flatMap((f) => ['--approval', f]);

/** A fresh path outside the workspace for a request file. */
export const requestPath = (tw: TestWorkspace): string => join(tw.freshDir(`request-${n++}`), 'act.request.json');

/** Each approver signs the request file on their own device (`approve --out`); the approval files. */
export async function approveFile(tw: TestWorkspace, request: string, approvers: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const a of approvers) {
    const f = join(tw.freshDir(`${a}-${n++}`), `${a}.approval.json`);
    ok(await tw.kr(['approve', '--json', '--request', request, '--approver', a, '--out', f, ...tw.passArgs(a)]), `approve by ${a}`);
    files.push(f);
  }
  return files;
}

async function identity(tw: TestWorkspace, name: string): Promise<Identity> {
  return unlockIdentity(readFileSync(tw.identityFile(name)), tw.passphrases[name]!, name);
}

/** Approval files signed in the test with each approver's real key: for requests `approve` itself refuses to sign. */
export async function craftedApprovals(tw: TestWorkspace, r: ApprovalRequest, approvers: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const who of approvers) {
    const id = await identity(tw, who);
    const f = join(tw.base, `crafted-${who}-${n++}.json`);
    writeFileSync(f, JSON.stringify(signApproval(r, publicOf(id), id.signing, new Date())));
    files.push(f);
  }
  return files;
}

/** The approvals a sealed ceremony recorded, written back out as approval files: to show a consumed one never counts again. */
export function consumedApprovals(tw: TestWorkspace, ceremony: string): string[] {
  const files = steps(tw, ceremony).filter((e) => e.step === 'approval').map((e) => {
    const f = join(tw.base, `consumed-${n++}.json`);
    writeFileSync(f, JSON.stringify(e.params.approval));
    return f;
  });
  assert.ok(files.length >= 2, `ceremony ${ceremony} recorded ${files.length} approvals`);
  return files;
}

export interface ApprovedAct {
  tw: () => TestWorkspace;
  /** The key the act is on: the request's target. */
  key: () => string;
  /** The act, with these approval options and everyone's passphrase (generator, witness, custodians). */
  run: (approval: string[]) => Promise<Run>;
  /** The act with `--request-out FILE` instead of approvals: writes this very act's request. */
  requestOut: (file: string) => Promise<Run>;
  /** Requests for other acts (written by `--request-out` of those acts), and what the refusal must name. */
  swapped: () => Promise<{ what: string; request: string; mentions: string[] }[]>;
}

/** The act's own request, written by its `--request-out`, then remade with another head or lifetime and nothing else changed. */
async function remade(act: ApprovedAct, o: { head?: string; ttlMs?: number }): Promise<ApprovalRequest> {
  const file = requestPath(act.tw());
  ok(await act.requestOut(file), 'request-out');
  const r = readJsonFile(file) as ApprovalRequest;
  return newRequest({ operation: r.operation, target: r.target, parameters: r.parameters, head: o.head ?? r.head }, new Date(), o.ttlMs ?? HOUR);
}

/** Registers the approval refusal table of `act`; run it inside a describe with concurrency 1. */
export function approvalRefusals(act: ApprovedAct): void {
  const tw = act.tw;
  const refusedHere = (approval: string[], code: string, mentions: string[]) => refusedUnchanged(tw(), () => act.run(approval), code, mentions);

  test('approvals below quorum: one approver in the room, one approval file, none', async () => {
    await refusedHere(['--approvers', 'bob'], 'QUORUM_NOT_MET', ['1 approval', act.key(), 'needs 2']);
    const file = requestPath(tw());
    ok(await act.requestOut(file));
    const files = await approveFile(tw(), file, ['bob']);
    const out = await refusedHere(withFiles(files), 'QUORUM_NOT_MET', ['1 approval', act.key(), 'needs 2']);
    assert.match(out.error.hint, /--approval FILE/);
    await refusedHere([], 'QUORUM_NOT_MET', ['0 approval', act.key(), 'needs 2']);
  });

  test('approvals: the same approver twice counts once', async () => {
    const file = requestPath(tw());
    ok(await act.requestOut(file));
    const [bob] = await approveFile(tw(), file, ['bob']);
    await refusedHere(withFiles([bob!, bob!]), 'APPROVAL_USED', ['bob', 'already approved']);
  });

  test('approvals from someone who is no custodian: the witness in the room, or a witness-signed file', async () => {
    const w = tw().witness;
    await refusedHere(['--approvers', `bob,${w}`], 'WRONG_ROLE', [w, 'custodian']);
    const files = await craftedApprovals(tw(), await remade(act, {}), ['bob', w]);
    await refusedHere(withFiles(files), 'NOT_PERMITTED', [w, 'not a custodian']);
  });

  test('approvals of a request that has expired', async () => {
    const files = await craftedApprovals(tw(), await remade(act, { ttlMs: -1000 }), ['bob', 'carol']);
    await refusedHere(withFiles(files), 'APPROVAL_EXPIRED', ['bob', 'after the request expired']);
  });

  test('approvals of a request made at the head of another history', async () => {
    const files = await craftedApprovals(tw(), await remade(act, { head: 'b'.repeat(64) }), ['bob', 'carol']);
    await refusedHere(withFiles(files), 'WRONG_REQUEST', ['bob', 'not a line of this history']);
  });

  test('approvals of another act\'s request', async () => {
    const swaps = await act.swapped();
    assert.ok(swaps.length > 0);
    for (const s of swaps) {
      const files = await approveFile(tw(), s.request, ['bob', 'carol']);
      await refusedHere(withFiles(files), 'WRONG_REQUEST', s.mentions);
    }
  });
}
