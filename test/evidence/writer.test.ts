import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../../src/base/canonical.js';
import { Workspace } from '../../src/fs/workspace.js';
import { newIdentity, publicOf, type Identity } from '../../src/custody/identity.js';
import { ceremonyFiles } from '../../src/evidence/chain.js';
import { pae, parseEnvelope, PAYLOAD_TYPE } from '../../src/base/dsse.js';
import { enrol, newRoster, requireSealed } from '../../src/state/roster.js';
import { CustodyState } from '../../src/state/fold.js';
import { loadState } from '../../src/audit/state.js';
import { recordChange, recordEnrol, recordSeal } from '../../src/ceremony/roster-steps.js';
import { loadScript } from '../../src/evidence/script.js';
import { PREDICATE_TYPE, STATEMENT_TYPE } from '../../src/evidence/statement.js';
import { verifyTranscripts } from '../../src/audit/verify.js';
import { Ceremony, type Opening } from '../../src/evidence/writer.js';
import { readLines, statementOf, writeLines } from '../../fixtures/chain-tools.js';
import { setAsideTorn } from '../../src/evidence/torn.js';
import type { KeyriteError } from '../../src/base/errors.js';
import { tempDir } from '../support/cli.js';

const POLICY = { threshold: 2, parties: 2, guardianThreshold: 2, guardians: 2, approvals: 2 };

interface Fresh {
  ws: Workspace;
  gen: Identity;
  nodes: Identity[];
}

async function fresh(): Promise<Fresh> {
  const ws = new Workspace(tempDir('keyrite-writer-'));
  const gen = await newIdentity('gen', 'generator');
  const nodes = [await newIdentity('node-1', 'node'), await newIdentity('node-2', 'node')];
  const roster = newRoster(POLICY);
  for (const id of [gen, ...nodes]) enrol(roster, publicOf(id));
  const c = await Ceremony.start(ws, { script: 'init', actor: gen, state: new CustodyState(), genesis: roster });
  await c.seal([gen]);
  return { ws, gen, nodes };
}

/** Opens a ceremony on the fold of the workspace's transcript, as the ceremony kernel does. */
async function open(ws: Workspace, o: Omit<Opening, 'state'>): Promise<Ceremony> {
  return Ceremony.start(ws, { ...o, state: await loadState(ws) });
}

async function enrolled(ws: Workspace, name: string, role: Identity['role']): Promise<Identity> {
  const id = await newIdentity(name, role);
  const c = await open(ws, { script: 'enrol', actor: id, introduce: publicOf(id) });
  await recordEnrol(c, id);
  await c.seal([id]);
  return id;
}

// The writer alone keeps no caches: those are the ceremony kernel's (src/ceremony/kernel/session.ts).
const verify = (ws: Workspace) => verifyTranscripts({ files: ceremonyFiles(ws.transcriptsDir), root: ws.root });
const steps = (file: string) => readLines(file).map((l) => statementOf(l).predicate.step);

test('each line is a DSSE envelope of an in-toto Statement v1, signed over PAE', async () => {
  const { ws, gen } = await fresh();
  const [file] = ceremonyFiles(ws.transcriptsDir);
  assert.match(file!, /0001-init\.jsonl$/);
  const env = parseEnvelope(readLines(file!)[0]!);
  assert.equal(env.payloadType, PAYLOAD_TYPE);
  const s = statementOf(readLines(file!)[0]!);
  assert.equal(s._type, STATEMENT_TYPE);
  assert.equal(s.predicateType, PREDICATE_TYPE);
  assert.equal(s.predicate.prev, null, 'genesis names no previous line');
  assert.equal(s.predicate.script, loadScript('init').digest);
  assert.equal(env.signatures[0]!.keyid, publicOf(gen).fingerprint);
  assert.deepEqual(pae('a/b', Buffer.from('hi')), Buffer.from('DSSEv1 3 a/b 2 hi'));
});

test('enrolment, roster seal and a roster change fold to the roster in force', async () => {
  const { ws, gen } = await fresh();
  const opened = (await loadState(ws)).requireRoster();
  assert.throws(() => requireSealed(opened), /ROSTER_NOT_SEALED|not sealed|open for enrolment/);
  const wit = await enrolled(ws, 'wit', 'witness');
  const [a, b, carol] = [await enrolled(ws, 'alice', 'custodian'), await enrolled(ws, 'bob', 'custodian'), await enrolled(ws, 'carol', 'custodian')];
  let c = await open(ws, { script: 'roster-seal', actor: gen });
  await recordSeal(c, gen, wit);
  await c.seal([gen, wit]);
  assert.equal(requireSealed((await loadState(ws)).requireRoster()).version, 1);
  const late = await newIdentity('late', 'auditor');
  await assert.rejects(open(ws, { script: 'enrol', actor: late, introduce: publicOf(late) }), /not in roster version 1/);
  const newA = await newIdentity('alice', 'custodian', a.ageIdentity);
  c = await open(ws, { script: 'roster-change', actor: b });
  const change = { op: 'rekey' as const, name: 'alice', identity: publicOf(newA) };
  await assert.rejects(recordChange(c, change, { approvers: [b], witness: wit, holder: newA }), (e: KeyriteError) => e.code === 'QUORUM_NOT_MET');
  await assert.rejects(recordChange(c, change, { approvers: [b, a], witness: wit, holder: newA }), (e: KeyriteError) => e.code === 'NOT_PERMITTED' && /alice cannot approve/.test(e.message));
  // Below the helper, the writer itself: the quorum without the one re-keyed, and a witness.
  await assert.rejects(c.record({ step: 'roster.change', actor: b, cosigners: [a, newA, wit], params: { change, version: 2 } }), /needs 2 custodians other than alice/);
  await assert.rejects(c.record({ step: 'roster.change', actor: b, cosigners: [carol, newA], params: { change, version: 2 } }), /needs a witness co-signature/);
  await recordChange(c, change, { approvers: [b, carol], witness: wit, holder: newA });
  await c.seal([b]);
  const r = (await loadState(ws)).requireRoster();
  assert.equal(r.version, 2);
  assert.equal(r.members.find((m) => m.name === 'alice')!.signingKey, newA.signing.publicKey);
  const v = await verify(ws);
  assert.deepEqual(v.failures, []);
});

test('the writer refuses what the verifier would reject, and writes nothing for it', async () => {
  const { ws, gen, nodes } = await fresh();
  const wit = await enrolled(ws, 'wit', 'witness');
  const g = await enrolled(ws, 'gal', 'guardian');
  const c = await open(ws, { script: 'keygen', actor: gen });
  const file = join(ws.transcriptsDir, `${c.id}.jsonl`);
  const before = readFileSync(file);
  await assert.rejects(c.record({ step: 'export.shard', actor: gen }), /gen is generator, but export.shard in keygen needs node/);
  await assert.rejects(c.record({ step: 'sign.request', actor: gen }), /sign.request is not in ceremony script keygen/);
  const stranger = await newIdentity('node-9', 'node');
  await assert.rejects(c.record({ step: 'node.attest', actor: stranger }), /NOT_ENROLLED|not in roster/);
  await assert.rejects(c.seal([gen]), /keygen seal needs co-signatures by witness/);
  await assert.rejects(c.seal([gen, g]), /keygen seal needs co-signatures by witness/);
  assert.deepEqual(readFileSync(file), before);
  await c.record({ step: 'node.attest', actor: nodes[0]!, result: { holds: [] } });
  await c.seal([gen, wit]);
  await assert.rejects(c.record({ step: 'node.attest', actor: nodes[0]! }), /already closed/);
});

test('a torn last line is set aside and the next ceremony records ceremony.interrupted first', async () => {
  const { ws, gen } = await fresh();
  let c = await open(ws, { script: 'export', actor: gen });
  await c.record({ step: 'export.result', actor: gen, params: { keyId: 'k0' } });
  const torn = join(ws.transcriptsDir, `${c.id}.jsonl`);
  const partial = readLines(torn)[1]!.slice(0, 99);
  appendFileSync(torn, partial);
  const v1 = await verify(ws);
  assert.ok(v1.failures.some((f) => f.file === `transcripts/${c.id}.jsonl` && f.line === 3 && /truncated last line/.test(f.reason)));

  const interruptedId = c.id;
  c = await open(ws, { script: 'export', actor: gen });
  assert.equal(readFileSync(torn + '.torn', 'utf8'), partial);
  assert.equal(readLines(torn).length, 2, 'the intact lines stay');
  const first = statementOf(readLines(join(ws.transcriptsDir, `${c.id}.jsonl`))[0]!).predicate;
  assert.equal(first.step, 'ceremony.interrupted');
  assert.deepEqual(first.params, { ceremony: interruptedId, lastSeq: 1, torn: [{ file: `transcripts/${interruptedId}.jsonl.torn`, sha256: sha256Hex(partial), bytes: 99 }] });
  assert.deepEqual(steps(join(ws.transcriptsDir, `${c.id}.jsonl`)), ['ceremony.interrupted', 'ceremony.start']);
  await c.seal([gen]);
  assert.deepEqual((await verify(ws)).failures, []);
});

test('a ceremony left unsealed without a torn line is recorded as interrupted too; a crash in the first line keeps the file, empty', async () => {
  const { ws, gen } = await fresh();
  let c = await open(ws, { script: 'export', actor: gen });
  const unsealed = c.id;
  assert.equal((await verify(ws)).failures.at(-1)!.reason.includes(`ceremony ${unsealed} was never sealed`), true);
  c = await open(ws, { script: 'export', actor: gen });
  const emptied = c.id;
  const path = join(ws.transcriptsDir, `${emptied}.jsonl`);
  const only = readFileSync(path, 'utf8').split('\n')[0]!;
  // Simulate a crash while writing this ceremony's very first line.
  writeFileSync(path, only.slice(0, 40));
  c = await open(ws, { script: 'export', actor: gen });
  assert.equal(readFileSync(path).length, 0, 'no ceremony file is ever removed: it is truncated to its intact lines, none');
  assert.equal(readFileSync(path + '.torn', 'utf8'), only.slice(0, 40));
  const first = statementOf(readLines(join(ws.transcriptsDir, `${c.id}.jsonl`))[0]!).predicate;
  assert.equal(first.step, 'ceremony.interrupted');
  // The chain now ends at the unsealed ceremony, so that is the one named; the torn bytes of the
  // emptied one are accounted for beside it.
  assert.equal(first.params.ceremony, unsealed);
  assert.deepEqual((first.params.torn as { file: string }[]).map((t) => t.file), [`transcripts/${emptied}.jsonl.torn`]);
  await c.seal([gen]);
  assert.deepEqual((await verify(ws)).failures, []);
  // The empty file is accepted only because the next ceremony records it: without that record it fails.
  rmSync(join(ws.transcriptsDir, `${c.id}.jsonl`));
  const v = await verify(ws);
  assert.ok(v.failures.some((f) => f.file === `transcripts/${emptied}.jsonl` && f.kind === 'empty' && /no ceremony has recorded that/.test(f.reason)), JSON.stringify(v.failures));
});

test('a newline-terminated last line that does not parse is damage, not a torn write: refused, nothing set aside', async () => {
  const { ws, gen } = await fresh();
  const c = await open(ws, { script: 'export', actor: gen });
  await c.seal([gen]);
  const path = join(ws.transcriptsDir, `${c.id}.jsonl`);
  const lines = readLines(path);
  writeLines(path, [...lines.slice(0, -1), lines.at(-1)!.slice(0, 80)]);
  const before = readFileSync(path);
  await assert.rejects(Ceremony.start(ws, { script: 'export', actor: gen, state: new CustodyState() }), (e: KeyriteError) => e.code === 'TRANSCRIPT_DAMAGED' && e.message.includes(`transcripts/${c.id}.jsonl`));
  assert.deepEqual(readFileSync(path), before);
  assert.equal(existsSync(path + '.torn'), false);
});

test('a torn line in a transcript that is a symbolic link is refused: the file it points to is untouched', async () => {
  const { ws, gen } = await fresh();
  const c = await open(ws, { script: 'export', actor: gen });
  await c.seal([gen]);
  const path = join(ws.transcriptsDir, `${c.id}.jsonl`);
  const outside = join(tempDir('keyrite-outside-'), 'victim.jsonl');
  writeFileSync(outside, readFileSync(path, 'utf8') + 'a torn fragment');
  rmSync(path);
  symlinkSync(outside, path);
  const before = readFileSync(outside);
  await assert.rejects(Ceremony.start(ws, { script: 'export', actor: gen, state: new CustodyState() }), (e: KeyriteError) => e.code === 'DAMAGED_FILE' && /symbolic link/.test(e.message));
  assert.deepEqual(readFileSync(outside), before);
  assert.equal(existsSync(path + '.torn'), false);
  assert.throws(() => setAsideTorn(ws.root, path, { last: null, intactBytes: 0, torn: Buffer.from('x') }), /symbolic link/);
  assert.deepEqual(readFileSync(outside), before);
});

test('a newcomer enrols themself while the roster is open, and an abort closes a ceremony', async () => {
  const { ws, gen } = await fresh();
  const aud = await newIdentity('aud', 'auditor');
  const c = await open(ws, { script: 'enrol', actor: aud, introduce: publicOf(aud) });
  await recordEnrol(c, aud);
  assert.deepEqual(steps(join(ws.transcriptsDir, `${c.id}.jsonl`)), ['ceremony.start', 'roster.enrol']);
  await c.abort({ code: 'DECLINED', message: 'changed their mind' });
  const e = await open(ws, { script: 'export', actor: gen });
  assert.equal(statementOf(readLines(join(ws.transcriptsDir, `${e.id}.jsonl`))[0]!).predicate.step, 'ceremony.start', 'an aborted ceremony is closed');
  await e.seal([gen]);
  await assert.rejects(recordEnrol(e, await newIdentity('x', 'auditor')), /closed/);
  assert.deepEqual((await verify(ws)).failures, []);
});
