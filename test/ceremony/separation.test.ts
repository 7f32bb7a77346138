import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { makeWorkspace, ok, refused, watch, type TestWorkspace } from '../support/workspace.js';

// Separation of duties (docs/ARCHITECTURE.md §1): no custodian is a guardian; a guardian serves one custodian.

let w: TestWorkspace; // alice set up with g1..g3; bob (custodian) not yet set up; h1..h3 spare guardians
before(async () => {
  w = await makeWorkspace({
    k: 2, m: 3,
    guardians: { alice: ['g1', 'g2', 'g3'] },
    extra: [{ name: 'h1', role: 'guardian' }, { name: 'h2', role: 'guardian' }, { name: 'h3', role: 'guardian' }, { name: 'audrey', role: 'auditor' }],
  });
  assert.equal(w.roles.bob, 'custodian');
});

function setup(custodian: string, guardians: string[]) {
  return w.kr(['custodian', 'setup', '--json', '--custodian', custodian, '--guardians', guardians.join(','), '--threshold', '2', ...w.passArgs(custodian)]);
}

async function refusedSetup(custodian: string, guardians: string[], code: string, mentions: string[]) {
  const unchanged = watch(w.root);
  const r = await setup(custodian, guardians);
  unchanged();
  refused(r, 1, code, mentions);
  assert.ok(!existsSync(w.setFile(custodian)));
}

test('a custodian given as a guardian is refused', async () => {
  await refusedSetup('bob', ['h1', 'h2', 'alice'], 'WRONG_ROLE', ['alice', 'custodian']);
});

test('a custodian as their own guardian is refused', async () => {
  await refusedSetup('bob', ['h1', 'bob', 'h2'], 'WRONG_ROLE', ['bob', 'custodian']);
});

test('an auditor or the witness given as a guardian is refused', async () => {
  await refusedSetup('bob', ['h1', 'h2', 'audrey'], 'WRONG_ROLE', ['audrey', 'auditor']);
  await refusedSetup('bob', ['h1', 'h2', w.witness], 'WRONG_ROLE', [w.witness, 'witness']);
});

test('a guardian already serving another custodian is refused', async () => {
  await refusedSetup('bob', ['h1', 'g2', 'h2'], 'GUARDIAN_TAKEN', ['g2', 'alice']);
});

test('a guardian cannot be the custodian being set up', async () => {
  await refusedSetup('g1', ['h1', 'h2', 'h3'], 'WRONG_ROLE', ['g1', 'guardian']);
});

test('a split that contradicts the roster\'s guardian policy (2-of-3) is refused', async () => {
  // init --guardian-threshold 2 --guardians 3 put k=2, m=3 in the roster's policy; a 3-of-3
  // split would need every guardian, which the policy does not allow.
  const unchanged = watch(w.root);
  const r = await w.kr(['custodian', 'setup', '--json', '--custodian', 'bob', '--guardians', 'h1,h2,h3', '--threshold', '3', ...w.passArgs('bob')]);
  try {
    unchanged();
    refused(r, 2, 'BAD_POLICY', ['2']);
  } finally {
    // If it was not refused, undo the split so that the next test starts from the same state.
    rmSync(join(w.root, 'guardians', 'bob'), { recursive: true, force: true });
    for (const h of ['h1', 'h2', 'h3']) rmSync(w.shareFile(h, 'bob'), { force: true });
  }
});

test('control: bob with three free guardians is set up, and they are then taken', async () => {
  const r = ok(await setup('bob', ['h1', 'h2', 'h3']));
  assert.deepEqual(r.shares.map((s: any) => s.guardian), ['h1', 'h2', 'h3']);
  // carol cannot borrow bob's guardians now.
  await refusedSetup('carol', ['h3', 'h1', 'h2'], 'GUARDIAN_TAKEN', ['h3', 'bob']);
});
