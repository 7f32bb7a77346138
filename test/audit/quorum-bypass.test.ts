import assert from 'node:assert/strict';
import { appendFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { canonical } from '../../src/base/canonical.js';
import { loadState } from '../../src/audit/state.js';
import { verifyTranscripts, type FailureKind } from '../../src/audit/verify.js';
import { recordChange, recordEnrol, recordSeal } from '../../src/ceremony/roster-steps.js';
import { newIdentity, publicOf, type Identity } from '../../src/custody/identity.js';
import { ceremonyFiles, lineDigest, nextCeremonyId, TRANSCRIPT_EXT } from '../../src/evidence/chain.js';
import { entryStatement, signStatement } from '../../src/evidence/entry.js';
import { loadScript } from '../../src/evidence/script.js';
import { Ceremony } from '../../src/evidence/writer.js';
import { Workspace } from '../../src/fs/workspace.js';
import { newRequest, requestDigest, signApproval, type ApprovalRequest } from '../../src/state/approval-request.js';
import { apply, CustodyState } from '../../src/state/fold.js';
import { foldEntryOf } from '../../src/evidence/fold-entry.js';
import { enrol, newRoster, type RosterChange } from '../../src/state/roster.js';
import { tempDir } from '../support/cli.js';

// Crafted quorum bypasses (issue 9, finding 5) that `audit verify` must fail. The honest parts
// of each history are written by the product's writer; the crafted ceremony — one the writer
// refuses to write — is signed line by line with the project's own entry signing
// (src/evidence/entry.ts over src/base/ed25519.ts) by the real keys of the people it names,
// correctly chained, so the only defect is the bypass itself.

const POLICY = { threshold: 2, parties: 2, guardianThreshold: 2, guardians: 2, approvals: 2 };

interface People {
  gen: Identity;
  wit: Identity;
  alice: Identity;
  bob: Identity;
  carol: Identity;
  dave: Identity;
  nodes: Identity[];
}

let base: Workspace;
let people: People;

async function enrolled(ws: Workspace, name: string, role: Identity['role']): Promise<Identity> {
  const id = await newIdentity(name, role);
  const c = await Ceremony.start(ws, { script: 'enrol', actor: id, introduce: publicOf(id), state: await loadState(ws) });
  await recordEnrol(c, id);
  await c.seal([id]);
  return id;
}

/** A sealed roster (generator, witness, four custodians, two nodes), written by the product's writer. */
async function sealedWorkspace(): Promise<{ ws: Workspace; people: People }> {
  const ws = new Workspace(tempDir('keyrite-quorum-'));
  const gen = await newIdentity('gen', 'generator');
  const nodes = [await newIdentity('node-1', 'node'), await newIdentity('node-2', 'node')];
  const roster = newRoster(POLICY);
  for (const id of [gen, ...nodes]) enrol(roster, publicOf(id));
  await (await Ceremony.start(ws, { script: 'init', actor: gen, state: new CustodyState(), genesis: roster })).seal([gen]);
  const wit = await enrolled(ws, 'wit', 'witness');
  const [alice, bob, carol, dave] = [await enrolled(ws, 'alice', 'custodian'), await enrolled(ws, 'bob', 'custodian'), await enrolled(ws, 'carol', 'custodian'), await enrolled(ws, 'dave', 'custodian')];
  const c = await Ceremony.start(ws, { script: 'roster-seal', actor: gen, state: await loadState(ws) });
  await recordSeal(c, gen, wit);
  await c.seal([gen, wit]);
  return { ws, people: { gen, wit, alice, bob, carol, dave, nodes } };
}

/** A copy of the sealed workspace, so each case starts from the same honest history. */
function copy(): Workspace {
  const dir = tempDir('keyrite-quorum-');
  cpSync(base.root, dir, { recursive: true });
  return new Workspace(dir);
}

interface Line {
  step: string;
  signers: Identity[]; // the actor first
  params?: Record<string, unknown>;
}

/**
 * Appends a whole ceremony of `script`, each line signed by its signers and chained after the
 * workspace's head under the roster in force: what an attacker holding those keys could write.
 */
async function forge(ws: Workspace, script: string, lines: Line[]): Promise<string> {
  const state = await loadState(ws);
  const id = nextCeremonyId(ws.transcriptsDir, script);
  const file = join(ws.transcriptsDir, id + TRANSCRIPT_EXT);
  let prev = state.head;
  lines.forEach((l, seq) => {
    const draft = { ceremony: id, seq, prev, roster: state.rosterDigest, script: loadScript(script).digest };
    const statement = entryStatement(draft, l.signers[0]!.name, { step: l.step, params: l.params });
    const line = canonical(signStatement(statement, l.signers));
    appendFileSync(file, line + '\n');
    prev = lineDigest(line);
    // Later lines claim the roster this one makes, as an honest writer's would.
    try {
      apply(state, foldEntryOf(statement, loadScript(script)));
    } catch {
      // a crafted entry the fold refuses leaves the roster as it was
    }
    state.chained(prev);
  });
  return id;
}

const HOUR = 3600_000;

async function recoveryRequest(ws: Workspace): Promise<ApprovalRequest> {
  const head = (await loadState(ws)).head!;
  return newRequest({ operation: 'recover-custodian', target: 'alice', parameters: { setId: 'set-1' }, head }, new Date(), HOUR);
}

const approvalBy = (who: Identity, r: ApprovalRequest) => ({ approval: signApproval(r, publicOf(who), who.signing, new Date()) });

/** A recovery drill of alice that names request `r`, with `approvers` recorded in it. */
function recoveryLines(r: ApprovalRequest, approvers: Identity[]): Line[] {
  const { gen, wit } = people;
  return [
    { step: 'ceremony.start', signers: [gen], params: { custodian: 'alice', script: 'recover-custodian' } },
    ...approvers.map((a) => ({ step: 'approval', signers: [a], params: approvalBy(a, r) })),
    { step: 'recover.drill', signers: [gen], params: { target: 'alice', setId: 'set-1', guardians: [], request: requestDigest(r) } },
    { step: 'ceremony.seal', signers: [gen, wit], params: { entries: approvers.length + 3 } },
  ];
}

/** A roster-change ceremony whose one change is signed by `signers`. */
function changeLines(change: RosterChange, signers: Identity[]): Line[] {
  const actor = signers[0]!;
  return [
    { step: 'ceremony.start', signers: [actor], params: { script: 'roster-change' } },
    { step: 'roster.change', signers, params: { change, version: 2 } },
    { step: 'ceremony.seal', signers: [actor], params: { entries: 3 } },
  ];
}

async function failuresOf(ws: Workspace): Promise<{ file: string; line: number; kind: FailureKind; reason: string }[]> {
  return (await verifyTranscripts({ files: ceremonyFiles(ws.transcriptsDir), root: ws.root })).failures;
}

async function expectFailure(ws: Workspace, ceremony: string, line: number, kind: FailureKind, reason: RegExp): Promise<void> {
  const failures = await failuresOf(ws);
  const hit = failures.find((f) => f.file === `transcripts/${ceremony}.jsonl` && f.line === line && f.kind === kind && reason.test(f.reason));
  assert.ok(hit, `expected a ${kind} failure at ${ceremony}:${line} matching ${reason}; got ${JSON.stringify(failures, null, 1)}`);
}

before(async () => {
  ({ ws: base, people } = await sealedWorkspace());
});

describe('crafted quorum bypasses fail audit verify', { concurrency: 1 }, () => {
  test('the honest forms of the same ceremonies verify (the forger plants nothing by itself)', async () => {
    const ws = copy();
    const { bob, carol, wit } = people;
    await forge(ws, 'recover-custodian', recoveryLines(await recoveryRequest(ws), [bob, carol]));
    const newWit = await newIdentity('wit', 'witness');
    await forge(ws, 'roster-change', changeLines({ op: 'rekey', name: 'wit', identity: publicOf(newWit) }, [bob, carol, wit, newWit]));
    assert.deepEqual(await failuresOf(ws), []);
  });

  test('a custodian approving their own recovery', async () => {
    const ws = copy();
    const { alice, bob } = people;
    const id = await forge(ws, 'recover-custodian', recoveryLines(await recoveryRequest(ws), [alice, bob]));
    await expectFailure(ws, id, 2, 'transition', /alice is the target of recover-custodian/);
    await expectFailure(ws, id, 4, 'transition', /needs 2 approvals for recover-custodian of alice; found 1 \(bob\)/);
  });

  test('an approval from a member removed since', async () => {
    const ws = copy();
    const { bob, carol, dave, wit } = people;
    const r = await recoveryRequest(ws);
    // Honest, by the writer: bob and carol approve; then the quorum and the witness remove carol.
    let c = await Ceremony.start(ws, { script: 'approve', actor: bob, state: await loadState(ws) });
    for (const a of [bob, carol]) await c.record({ step: 'approval', actor: a, params: approvalBy(a, r) });
    await c.seal([bob]);
    c = await Ceremony.start(ws, { script: 'roster-change', actor: bob, state: await loadState(ws) });
    await recordChange(c, { op: 'remove', name: 'carol' }, { approvers: [bob, dave], witness: wit });
    await c.seal([bob]);
    const id = await forge(ws, 'recover-custodian', recoveryLines(r, []));
    await expectFailure(ws, id, 2, 'transition', /found 1 \(bob\); carol's approval key is not a custodian's in roster version 2/);
  });

  for (const [role, name] of [['witness', 'wit'], ['generator', 'gen'], ['custodian', 'alice']] as const) {
    test(`the approval quorum re-keying the ${role} with no witness`, async () => {
      const ws = copy();
      const { bob, carol } = people;
      const newKey = await newIdentity(name, role);
      const id = await forge(ws, 'roster-change', changeLines({ op: 'rekey', name, identity: publicOf(newKey) }, [bob, carol, newKey]));
      await expectFailure(ws, id, 2, 'script', /roster.change needs a witness co-signature of roster version 1/);
    });
  }

  test('adding a node with no witness', async () => {
    const ws = copy();
    const { bob, carol } = people;
    const node = await newIdentity('node-3', 'node');
    const id = await forge(ws, 'roster-change', changeLines({ op: 'add', identity: publicOf(node) }, [bob, carol, node]));
    await expectFailure(ws, id, 2, 'script', /roster.change needs a witness co-signature/);
  });

  test('the one re-keyed counted toward the quorum of their own re-key', async () => {
    const ws = copy();
    const { alice, bob, wit } = people;
    const newAlice = await newIdentity('alice', 'custodian');
    const id = await forge(ws, 'roster-change', changeLines({ op: 'rekey', name: 'alice', identity: publicOf(newAlice) }, [bob, alice, wit, newAlice]));
    await expectFailure(ws, id, 2, 'script', /roster.change needs 2 custodians other than alice of roster version 1; 1 signed/);
  });
});
