import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newIdentity, type Identity } from '../../src/custody/identity.js';
import { ceremonyFiles } from '../../src/evidence/chain.js';
import { parseEnvelope } from '../../src/base/dsse.js';
import { verifyTranscripts, type VerifyResult } from '../../src/audit/verify.js';
import { GOLDEN, generate } from '../../fixtures/generate.js';
import { loadFixtureKeys, readChain, readLines, writeChain, writeLines, type ChainEntry } from '../../fixtures/chain-tools.js';

// Golden workspace: verifies. Each tampering: fails, naming the file, line and reason.

const anchors = JSON.parse(readFileSync(join(GOLDEN, '..', 'golden.json'), 'utf8')) as { genesis: string; head: string; keyId: string };
const keys = await loadFixtureKeys(GOLDEN);
const current = JSON.parse(readFileSync(join(GOLDEN, 'roster.json'), 'utf8')) as { members: { name: string; signingKey: string }[]; nodes: { name: string; signingKey: string }[] };
/** The fixture identity `name` holds now (alice's lost key is also among `keys`). */
const byName = (name: string): Identity => {
  const pub = [...current.members, ...current.nodes].find((m) => m.name === name)!;
  return [...keys.values()].find((k) => k.signing.publicKey === pub.signingKey)!;
};

function copyGolden(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyrite-audit-'));
  cpSync(GOLDEN, dir, { recursive: true });
  return dir;
}

function verify(root: string, anchorsToo = false): Promise<VerifyResult> {
  return verifyTranscripts({
    files: ceremonyFiles(join(root, 'transcripts')),
    root,
    rosterFile: join(root, 'roster.json'),
    ...(anchorsToo ? { genesis: anchors.genesis, head: anchors.head } : {}),
  });
}

const file = (id: string) => `transcripts/${id}.jsonl`;

/** The 1-based line in `ceremony` of the nth entry with `step`. */
function lineOf(root: string, ceremony: string, step: string, nth = 0): number {
  const steps = readLines(join(root, file(ceremony))).map((l) => JSON.parse(Buffer.from(parseEnvelope(l).payload, 'base64').toString()).predicate.step);
  const idx = steps.map((s, i) => (s === step ? i : -1)).filter((i) => i >= 0)[nth];
  assert.ok(idx !== undefined, `${ceremony} has no ${step} #${nth}`);
  return idx + 1;
}

function editLines(root: string, ceremony: string, edit: (lines: string[]) => string[]): void {
  const path = join(root, file(ceremony));
  writeLines(path, edit(readLines(path)));
}

function editChain(root: string, edit: (entries: ChainEntry[]) => ChainEntry[]): void {
  writeChain(root, edit(readChain(root, keys)));
}

function expectFailure(r: VerifyResult, where: { file: string; line: number }, reason: RegExp): void {
  assert.equal(r.ok, false, 'verification should fail');
  const hit = r.failures.find((f) => f.file === where.file && f.line === where.line && reason.test(f.reason));
  assert.ok(hit, `expected ${where.file}:${where.line} ${reason}; got ${JSON.stringify(r.failures, null, 1)}`);
}

const at = (entries: ChainEntry[], ceremony: string, step: string, nth = 0) =>
  entries.map((e, i) => (e.ceremony === ceremony && e.statement.predicate.step === step ? i : -1)).filter((i) => i >= 0)[nth]!;

test('the golden workspace verifies against its witnessed genesis and head', async () => {
  const r = await verify(GOLDEN, true);
  assert.deepEqual(r.failures, []);
  assert.equal(r.ok, true);
  assert.equal(r.ceremonies, 19);
  assert.equal(r.entries, 83);
  assert.equal(r.head, anchors.head);
  assert.equal(r.genesis, anchors.genesis);
});

test('re-linking the golden chain unchanged still verifies (the tamper tool plants nothing by itself)', async () => {
  const root = copyGolden();
  editChain(root, (e) => e);
  const r = await verify(root);
  assert.deepEqual(r.failures, []);
  rmSync(root, { recursive: true });
});

test('a flipped byte in a payload', async () => {
  const root = copyGolden();
  const line = lineOf(root, '0012-keygen', 'keygen.result');
  editLines(root, '0012-keygen', (lines) => {
    const env = JSON.parse(lines[line - 1]!);
    const payload = Buffer.from(env.payload, 'base64');
    payload[payload.indexOf('"epoch":1') + 8] = 0x32; // epoch 1 -> 2
    env.payload = payload.toString('base64');
    lines[line - 1] = JSON.stringify(env);
    return lines;
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0012-keygen'), line }, /signature 1 \(gen, .*\) does not verify/);
  expectFailure(r, { file: file('0012-keygen'), line: line + 1 }, /prev .* does not match the previous line/);
});

test('a flipped byte in a signature', async () => {
  const root = copyGolden();
  const line = lineOf(root, '0010-roster-seal', 'roster.seal');
  editLines(root, '0010-roster-seal', (lines) => {
    const env = JSON.parse(lines[line - 1]!);
    const sig = Buffer.from(env.signatures[1].sig, 'base64');
    sig[10]! ^= 0x01;
    env.signatures[1].sig = sig.toString('base64');
    lines[line - 1] = JSON.stringify(env);
    return lines;
  });
  expectFailure(await verify(root), { file: file('0010-roster-seal'), line }, /signature 2 \(wit, .*\) does not verify/);
});

test('a deleted line', async () => {
  const root = copyGolden();
  const line = lineOf(root, '0012-keygen', 'node.delete', 1);
  editLines(root, '0012-keygen', (lines) => lines.filter((_, i) => i !== line - 1));
  const r = await verify(root);
  expectFailure(r, { file: file('0012-keygen'), line }, /seq \d+ where \d+ was expected/);
  expectFailure(r, { file: file('0012-keygen'), line }, /does not match the previous line/);
});

test('two lines swapped', async () => {
  const root = copyGolden();
  const line = lineOf(root, '0013-sign', 'sign.request');
  editLines(root, '0013-sign', (lines) => {
    [lines[line - 1], lines[line]] = [lines[line]!, lines[line - 1]!];
    return lines;
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0013-sign'), line }, /seq \d+ where \d+ was expected/);
  expectFailure(r, { file: file('0013-sign'), line: line + 1 }, /seq \d+ where \d+ was expected/);
});

test('a line spliced in from another ceremony', async () => {
  const root = copyGolden();
  const foreign = readLines(join(root, file('0017-sign')))[1]!;
  editLines(root, '0013-sign', (lines) => {
    lines[1] = foreign;
    return lines;
  });
  expectFailure(await verify(root), { file: file('0013-sign'), line: 2 }, /belongs to ceremony 0017-sign, not 0013-sign/);
});

test('a whole last ceremony removed is caught by the witnessed head', async () => {
  const root = copyGolden();
  rmSync(join(root, file('0019-guardian-check')));
  assert.equal((await verify(root)).ok, true, 'without the anchor the shorter history is self-consistent');
  const r = await verify(root, true);
  const last = readLines(join(root, file('0018-roster-change'))).length;
  expectFailure(r, { file: file('0018-roster-change'), line: last }, /is not the witnessed head/);
});

test('a rewritten history re-signed with the operator\'s own keys fails the roster', async () => {
  const root = copyGolden();
  const gen = byName('gen');
  const operatorHolds = new Set(['gen', 'node-1', 'node-2', 'node-3']); // on a single laptop
  editChain(root, (entries) => {
    const from = at(entries, '0012-keygen', 'keygen.result');
    entries[from]!.statement.predicate.result = { publicKey: 'ff'.repeat(32) };
    for (const e of entries.slice(from)) e.signers = e.signers.map((s) => (operatorHolds.has(s.name) ? s : gen));
    return entries;
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0012-keygen'), line: lineOf(root, '0012-keygen', 'ceremony.seal') }, /the keygen seal needs co-signatures by witness/);
  expectFailure(r, { file: file('0013-sign'), line: lineOf(root, '0013-sign', 'sign.request') }, /first signature is by gen, not the actor alice/);
});

test('a wholly new history with its own roster is caught by the witnessed genesis', async () => {
  const root = mkdtempSync(join(tmpdir(), 'keyrite-forged-'));
  await generate(root);
  const r = await verify(root, true);
  expectFailure(r, { file: file('0001-init'), line: 1 }, /is not the witnessed genesis/);
});

test('a signature by a key not in the roster', async () => {
  const root = copyGolden();
  const eve = await newIdentity('eve', 'custodian');
  editChain(root, (entries) => {
    const i = at(entries, '0015-approve', 'approval');
    entries[i]!.signers = [eve];
    entries[i]!.statement.predicate.actor = 'eve';
    return entries;
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0015-approve'), line: lineOf(root, '0015-approve', 'approval') }, /signature 1: signer [0-9a-f]+ is not in roster version 1 at this point/);
});

test('a signature by an enrolled key in the wrong role', async () => {
  const root = copyGolden();
  editChain(root, (entries) => {
    const i = at(entries, '0015-approve', 'approval');
    entries[i]!.signers = [byName('gal-1')];
    entries[i]!.statement.predicate.actor = 'gal-1';
    return entries;
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0015-approve'), line: lineOf(root, '0015-approve', 'approval') }, /gal-1 is guardian, but approval in approve needs custodian/);
});

test('a signature by a key enrolled only after it signed', async () => {
  const root = copyGolden();
  editChain(root, (entries) => {
    const i = at(entries, '0016-recover-custodian', 'approval');
    const forged = structuredClone(entries[i]!);
    forged.signers = [byName('dave')]; // dave joins in 0018-roster-change
    forged.statement.predicate.actor = 'dave';
    entries.splice(i, 0, forged);
    return entries;
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0016-recover-custodian'), line: lineOf(root, '0016-recover-custodian', 'approval') }, /is not in roster version 1 at this point/);
});

test('a signature by a custodian\'s old key after a roster change replaced it', async () => {
  const root = copyGolden();
  const lost = [...keys.values()].find((k) => k.name === 'alice' && k !== byName('alice'))!;
  editChain(root, (entries) => {
    entries[at(entries, '0017-sign', 'sign.request')]!.signers = [lost];
    return entries;
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0017-sign'), line: lineOf(root, '0017-sign', 'sign.request') }, /signature 1: signer [0-9a-f]+ is not in roster version 2 at this point/);
});

test('a missing approval', async () => {
  const root = copyGolden();
  editChain(root, (entries) => entries.filter((_, i) => i !== at(entries, '0016-recover-custodian', 'approval')));
  const r = await verify(root);
  expectFailure(r, { file: file('0016-recover-custodian'), line: lineOf(root, '0016-recover-custodian', 'recover.intent') }, /recover.intent needs 2 approvals for recover-custodian of alice; found 1/);
});

test('a missing node-empty attestation after a JIT sign', async () => {
  const root = copyGolden();
  editChain(root, (entries) => entries.filter((_, i) => i !== at(entries, '0013-sign', 'node.attest', 1)));
  const r = await verify(root);
  expectFailure(r, { file: file('0013-sign'), line: lineOf(root, '0013-sign', 'sign.result') }, /node-2 signed with key k[0-9a-f]+ but never attested/);
});

test('a missing node-empty attestation after an export with deletion', async () => {
  const root = copyGolden();
  editChain(root, (entries) => entries.filter((_, i) => i !== at(entries, '0012-keygen', 'node.attest', 2)));
  const r = await verify(root);
  expectFailure(r, { file: file('0012-keygen'), line: lineOf(root, '0012-keygen', 'node.delete', 2) }, /node-3 deleted its share of key k[0-9a-f]+ but never attested/);
});

test('an attestation that still holds the key does not count', async () => {
  const root = copyGolden();
  editChain(root, (entries) => {
    entries[at(entries, '0012-keygen', 'node.attest', 0)]!.statement.predicate.result = { holds: [{ keyId: anchors.keyId, epoch: 1 }] };
    return entries;
  });
  expectFailure(await verify(root), { file: file('0012-keygen'), line: lineOf(root, '0012-keygen', 'node.delete', 0) }, /node-1 deleted its share/);
});

test('a truncated last line', async () => {
  const root = copyGolden();
  const path = join(root, file('0019-guardian-check'));
  const text = readFileSync(path, 'utf8');
  writeFileSync(path, text.slice(0, text.length - 200));
  const r = await verify(root);
  expectFailure(r, { file: file('0019-guardian-check'), line: 3 }, /truncated last line/);
});

test('a modified artifact', async () => {
  const root = copyGolden();
  const shard = `holdings/bob/${anchors.keyId}-e1.shard.age`;
  writeFileSync(join(root, shard), 'not the shard');
  expectFailure(await verify(root), { file: file('0012-keygen'), line: lineOf(root, '0012-keygen', 'export.shard', 1) }, new RegExp(`artifact ${shard} has sha256`));
});

test('a roster file edited outside the transcript', async () => {
  const root = copyGolden();
  const roster = JSON.parse(readFileSync(join(root, 'roster.json'), 'utf8'));
  roster.policy.approvals = 1;
  writeFileSync(join(root, 'roster.json'), JSON.stringify(roster));
  expectFailure(await verify(root), { file: 'roster.json', line: 0 }, /is not the roster the transcript replays to/);
});
