import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newIdentity, type Identity } from '../../src/custody/identity.js';
import { ceremonyFiles } from '../../src/evidence/chain.js';
import { verifyTranscripts, type FailureKind, type VerifyResult } from '../../src/audit/verify.js';
import { copyGolden, GOLDEN, goldenAnchors, PEOPLE } from '../../fixtures/golden.js';
import { loadFixtureKeys, readChain, readLines, statementOf, writeChain, writeLines, type ChainEntry } from '../../fixtures/chain-tools.js';
import { keyrite, tempDir } from '../support/cli.js';

// The audit tamper matrix on the workspace the product wrote (fixtures/generate.ts runs the real
// commands): the golden workspace verifies; each tampering fails, naming the file, line and
// reason. Forgeries that must be validly signed are re-signed with the fixture's real keys
// (fixtures/chain-tools.ts), so the verifier's objection is the planted defect and nothing else.

const anchors = goldenAnchors();
const keys = await loadFixtureKeys(GOLDEN, PEOPLE);
const current = JSON.parse(readFileSync(join(GOLDEN, 'roster.json'), 'utf8')) as { members: { name: string; signingKey: string }[]; nodes: { name: string; signingKey: string }[]; formerKeys: Record<string, string[]> };
/** alice's first key, the one she lost: the oldest of her replaced keys (the recovery's; the rotation replaced the recovered one). */
const lostKey = (): string | undefined => current.formerKeys.alice?.at(-1);
/** The key `name` holds now, per the roster. */
const byName = (name: string): Identity => {
  const pub = [...current.members, ...current.nodes].find((m) => m.name === name);
  assert.ok(pub, `${name} is not in the golden roster`);
  const id = [...keys.values()].find((k) => k.signing.publicKey === pub.signingKey);
  assert.ok(id, `no fixture key for ${name}`);
  return id;
};
/** The identity alice lost before her recovery (fixtures/golden-people/alice-lost.identity.age). */
const aliceLost = (): Identity => {
  const lost = [...keys.values()].filter((k) => k.name === 'alice' && k !== byName('alice') && k.signing.publicKey === lostKey());
  assert.equal(lost.length, 1, 'the fixture keeps alice\'s lost key');
  return lost[0]!;
};

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
  const steps = readLines(join(root, file(ceremony))).map((l) => statementOf(l).predicate.step);
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

/** Rewrites one line's envelope (JSON) in place, leaving every other byte as the product wrote it. */
function editEnvelope(root: string, ceremony: string, line: number, edit: (env: { payload: string; signatures: { sig: string }[] }) => void): void {
  editLines(root, ceremony, (lines) => {
    const env = JSON.parse(lines[line - 1]!);
    edit(env);
    lines[line - 1] = JSON.stringify(env);
    return lines;
  });
}

function expectFailure(r: VerifyResult, where: { file: string; line: number; kind: FailureKind }, reason: RegExp): void {
  assert.equal(r.ok, false, 'verification should fail');
  const hit = r.failures.find((f) => f.file === where.file && f.line === where.line && f.kind === where.kind && reason.test(f.reason));
  assert.ok(hit, `expected ${where.file}:${where.line} (${where.kind}) ${reason}; got ${JSON.stringify(r.failures, null, 1)}`);
}

/** Index in `entries` of the nth entry of `ceremony` with `step`. */
function at(entries: ChainEntry[], ceremony: string, step: string, nth = 0): number {
  const i = entries.map((e, i) => (e.ceremony === ceremony && e.statement.predicate.step === step ? i : -1)).filter((i) => i >= 0)[nth];
  assert.ok(i !== undefined, `${ceremony} has no ${step} #${nth}`);
  return i;
}

test('the golden workspace verifies against its witnessed genesis and head', async () => {
  const r = await verify(GOLDEN, true);
  assert.deepEqual(r.failures, []);
  assert.equal(r.ok, true);
  assert.equal(r.ceremonies, 19);
  assert.equal(r.entries, 147);
  assert.equal(r.head, anchors.head);
  assert.equal(r.genesis, anchors.genesis);
});

test('re-linking the golden chain unchanged reproduces the product\'s bytes (the tamper tool plants nothing by itself)', async () => {
  const root = copyGolden();
  const before = ceremonyFiles(join(root, 'transcripts')).map((f) => readFileSync(f, 'utf8'));
  editChain(root, (e) => e);
  assert.deepEqual(ceremonyFiles(join(root, 'transcripts')).map((f) => readFileSync(f, 'utf8')), before);
  assert.deepEqual((await verify(root, true)).failures, []);
  rmSync(root, { recursive: true });
});

test('a flipped byte in a payload', async () => {
  const root = copyGolden();
  const line = lineOf(root, '0012-keygen', 'keygen.result');
  editEnvelope(root, '0012-keygen', line, (env) => {
    const payload = Buffer.from(env.payload, 'base64');
    const at = payload.indexOf('"epoch":1');
    assert.ok(at > 0, 'keygen.result records epoch 1');
    payload[at + 8] = 0x32; // epoch 1 -> 2
    env.payload = payload.toString('base64');
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0012-keygen'), line, kind: 'signature' }, /signature 1 \(gen, .*\) does not verify/);
  expectFailure(r, { file: file('0012-keygen'), line: line + 1, kind: 'chain' }, /prev .* does not match the previous line/);
});

test('a flipped byte in a signature', async () => {
  const root = copyGolden();
  const line = lineOf(root, '0010-roster-seal', 'roster.seal');
  editEnvelope(root, '0010-roster-seal', line, (env) => {
    const sig = Buffer.from(env.signatures[1]!.sig, 'base64');
    sig[10]! ^= 0x01;
    env.signatures[1]!.sig = sig.toString('base64');
  });
  expectFailure(await verify(root), { file: file('0010-roster-seal'), line, kind: 'signature' }, /signature 2 \(wit, .*\) does not verify/);
});

test('a deleted line', async () => {
  const root = copyGolden();
  const line = lineOf(root, '0012-keygen', 'node.delete', 1);
  editLines(root, '0012-keygen', (lines) => lines.filter((_, i) => i !== line - 1));
  const r = await verify(root);
  expectFailure(r, { file: file('0012-keygen'), line, kind: 'chain' }, /seq \d+ where \d+ was expected/);
  expectFailure(r, { file: file('0012-keygen'), line, kind: 'chain' }, /does not match the previous line/);
});

test('two lines swapped', async () => {
  const root = copyGolden();
  const line = lineOf(root, '0013-sign', 'sign.request');
  editLines(root, '0013-sign', (lines) => {
    [lines[line - 1], lines[line]] = [lines[line]!, lines[line - 1]!];
    return lines;
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0013-sign'), line, kind: 'chain' }, /seq \d+ where \d+ was expected/);
  expectFailure(r, { file: file('0013-sign'), line: line + 1, kind: 'chain' }, /seq \d+ where \d+ was expected/);
});

test('a line spliced in from another ceremony', async () => {
  const root = copyGolden();
  const foreign = readLines(join(root, file('0019-sign')))[1]!;
  editLines(root, '0013-sign', (lines) => {
    lines[1] = foreign;
    return lines;
  });
  expectFailure(await verify(root), { file: file('0013-sign'), line: 2, kind: 'chain' }, /belongs to ceremony 0019-sign, not 0013-sign/);
});

test('a whole last ceremony removed is caught by the witnessed head', async () => {
  const root = copyGolden();
  rmSync(join(root, file('0019-sign')));
  assert.deepEqual((await verify(root)).failures, [], 'without the anchor the shorter history is self-consistent');
  const r = await verify(root, true);
  const last = readLines(join(root, file('0018-rotate'))).length;
  expectFailure(r, { file: file('0018-rotate'), line: last, kind: 'anchor' }, /is not the witnessed head/);
});

test('a rewritten history re-signed with the operator\'s own keys fails the roster', async () => {
  const root = copyGolden();
  const gen = byName('gen');
  const operatorHolds = new Set(['gen', 'node-1', 'node-2', 'node-3']); // on a single laptop
  editChain(root, (entries) => {
    const from = at(entries, '0012-keygen', 'keygen.result');
    entries[from]!.statement.predicate.result = { ...entries[from]!.statement.predicate.result, publicKey: 'ff'.repeat(32) };
    for (const e of entries.slice(from)) e.signers = e.signers.map((s) => (operatorHolds.has(s.name) ? s : gen));
    return entries;
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0012-keygen'), line: lineOf(root, '0012-keygen', 'ceremony.seal'), kind: 'script' }, /the keygen seal needs co-signatures by witness/);
  expectFailure(r, { file: file('0013-sign'), line: lineOf(root, '0013-sign', 'sign.request'), kind: 'script' }, /first signature is by gen, not the actor alice/);
});

test('a wholly new history with its own roster is caught by the witnessed genesis', async () => {
  // Another genesis, made by the real `keyrite init` as an attacker on the same laptop would.
  const base = tempDir('keyrite-forged-');
  const pass = join(base, 'gen.pass');
  writeFileSync(pass, 'an attacker\'s own generator passphrase\n', { mode: 0o600 });
  const root = join(base, 'ws');
  const init = await keyrite(['--workspace', root, '--json', '--yes', '--insecure-fast-kdf', 'init', '--generator', 'gen', '--passphrase-file', `gen=${pass}`]);
  assert.equal(init.code, 0, init.stdout + init.stderr);
  const r = await verify(root, true);
  expectFailure(r, { file: file('0001-init'), line: 1, kind: 'anchor' }, /is not the witnessed genesis/);
});

// The approval cases below were built on a hand-made `approve` ceremony, which no command writes
// yet; they now tamper with the approvals the product's recover-start ceremony records.
test('a signature by a key not in the roster', async () => {
  const root = copyGolden();
  const eve = await newIdentity('eve', 'custodian');
  editChain(root, (entries) => {
    const i = at(entries, '0016-recover-start', 'approval');
    entries[i]!.signers = [eve];
    entries[i]!.statement.predicate.actor = 'eve';
    return entries;
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0016-recover-start'), line: lineOf(root, '0016-recover-start', 'approval'), kind: 'signature' }, /signature 1: signer [0-9a-f]+ is not in roster version 1 at this point/);
});

test('a signature by an enrolled key in the wrong role', async () => {
  const root = copyGolden();
  editChain(root, (entries) => {
    const i = at(entries, '0016-recover-start', 'approval');
    entries[i]!.signers = [byName('gal-1')];
    entries[i]!.statement.predicate.actor = 'gal-1';
    return entries;
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0016-recover-start'), line: lineOf(root, '0016-recover-start', 'approval'), kind: 'script' }, /gal-1 is guardian, but approval in recover-start needs custodian/);
});

// Was: an approval by dave, added by a hand-made roster-change ceremony no command writes. The
// key the product enrols later is alice's recovered one (roster version 2, in 0017), then her rotated one (version 3, in 0018).
test('a signature by a key enrolled only after it signed', async () => {
  const root = copyGolden();
  editChain(root, (entries) => {
    entries[at(entries, '0013-sign', 'sign.request')]!.signers = [byName('alice')];
    return entries;
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0013-sign'), line: lineOf(root, '0013-sign', 'sign.request'), kind: 'signature' }, /signature 1: signer [0-9a-f]+ is not in roster version 1 at this point/);
});

test('a signature by a custodian\'s old key after a roster change replaced it', async () => {
  const root = copyGolden();
  editChain(root, (entries) => {
    entries[at(entries, '0019-sign', 'sign.request')]!.signers = [aliceLost()];
    return entries;
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0019-sign'), line: lineOf(root, '0019-sign', 'sign.request'), kind: 'signature' }, /signature 1: signer [0-9a-f]+ is not in roster version 3 at this point/);
});

test('a missing approval', async () => {
  const root = copyGolden();
  editChain(root, (entries) => entries.filter((_, i) => i !== at(entries, '0016-recover-start', 'approval')));
  const r = await verify(root);
  const line = lineOf(root, '0016-recover-start', 'recover.start');
  // The fold refuses the act, so the session never exists and no guardian's device would take it.
  expectFailure(r, { file: file('0016-recover-start'), line, kind: 'transition' }, /needs 2 approvals for recover-custodian of alice; found 1/);
});

test('a missing node-empty attestation after a JIT sign', async () => {
  const root = copyGolden();
  editChain(root, (entries) => entries.filter((_, i) => i !== at(entries, '0013-sign', 'node.attest', 1)));
  const r = await verify(root);
  expectFailure(r, { file: file('0013-sign'), line: lineOf(root, '0013-sign', 'sign.result'), kind: 'policy' }, /node-2 signed with key k[0-9a-f]+ but never attested/);
});

test('a missing node-empty attestation after an export with deletion', async () => {
  const root = copyGolden();
  editChain(root, (entries) => entries.filter((_, i) => i !== at(entries, '0012-keygen', 'node.attest', 2)));
  const r = await verify(root);
  expectFailure(r, { file: file('0012-keygen'), line: lineOf(root, '0012-keygen', 'node.delete', 2), kind: 'policy' }, /node-3 deleted its share of key k[0-9a-f]+ but never attested/);
});

test('an attestation that still holds the key does not count', async () => {
  const root = copyGolden();
  editChain(root, (entries) => {
    const attest = entries[at(entries, '0012-keygen', 'node.attest', 0)]!.statement.predicate;
    attest.result = { ...attest.result, holds: [{ keyId: anchors.keyId, epoch: 1 }] };
    return entries;
  });
  expectFailure(await verify(root), { file: file('0012-keygen'), line: lineOf(root, '0012-keygen', 'node.delete', 0), kind: 'policy' }, /node-1 deleted its share of key k[0-9a-f]+ but never attested/);
});

// The product's own crash record: 0014-shard-check was torn mid-append, and the next command
// (0015-guardian-check) opened with ceremony.interrupted naming it.
test('an interrupted ceremony the next one does not record', async () => {
  const root = copyGolden();
  editChain(root, (entries) => entries.filter((_, i) => i !== at(entries, '0015-guardian-check', 'ceremony.interrupted')));
  const r = await verify(root);
  const last = readLines(join(root, file('0014-shard-check'))).length;
  expectFailure(r, { file: file('0014-shard-check'), line: last, kind: 'unclosed' }, /ceremony 0014-shard-check never closed, and the next ceremony does not record it as interrupted/);
});

test('a truncated last line', async () => {
  const root = copyGolden();
  const path = join(root, file('0019-sign'));
  const lines = readLines(path).length;
  const text = readFileSync(path, 'utf8');
  writeFileSync(path, text.slice(0, text.length - 200));
  const r = await verify(root);
  expectFailure(r, { file: file('0019-sign'), line: lines, kind: 'torn' }, /truncated last line/);
});

test('a modified artifact', async () => {
  const root = copyGolden();
  const shard = `holdings/bob/bob.${anchors.keyId}.e1.shard.age`;
  writeFileSync(join(root, shard), 'not the shard');
  expectFailure(await verify(root), { file: file('0012-keygen'), line: lineOf(root, '0012-keygen', 'export.shard', 1), kind: 'artifact' }, new RegExp(`artifact ${shard.replaceAll('.', '\\.')} has sha256`));
});

test('a roster file edited outside the transcript', async () => {
  const root = copyGolden();
  const roster = JSON.parse(readFileSync(join(root, 'roster.json'), 'utf8'));
  roster.policy.approvals = 1;
  writeFileSync(join(root, 'roster.json'), JSON.stringify(roster));
  expectFailure(await verify(root), { file: 'roster.json', line: 0, kind: 'cache' }, /is not the roster the transcript folds to/);
});

// Issue 9, finding 4: an export that moves a party's shard to another custodian is refused by
// the fold, even signed by the real node key and with every line re-linked.
test('an export.shard re-signed by its node but naming another custodian', async () => {
  const root = copyGolden();
  editChain(root, (entries) => {
    const e = entries[at(entries, '0012-keygen', 'export.shard', 1)]!;
    e.statement.predicate.params = { ...e.statement.predicate.params, custodian: 'carol' };
    return entries;
  });
  const r = await verify(root);
  expectFailure(r, { file: file('0012-keygen'), line: lineOf(root, '0012-keygen', 'export.shard', 1), kind: 'transition' }, /export\.shard .*custodian "carol", but node-2's party is assigned "bob"/);
});

test('an export.intent that names other custodians than the key\'s', async () => {
  const root = copyGolden();
  editChain(root, (entries) => {
    const e = entries[at(entries, '0012-keygen', 'export.intent')]!;
    e.statement.predicate.params = { ...e.statement.predicate.params, custodians: ['carol', 'bob', 'alice'] };
    return entries;
  });
  expectFailure(await verify(root), { file: file('0012-keygen'), line: lineOf(root, '0012-keygen', 'export.intent'), kind: 'transition' }, /custodians \["carol","bob","alice"\] are not the key's, in party order/);
});

// Issue 9, finding 8: a signature on record must be one t custodians asked for, over the message
// the intent carries, and it must verify.
test('a sign ceremony without its custodians\' requests', async () => {
  const root = copyGolden();
  editChain(root, (entries) => entries.filter((e) => !(e.ceremony === '0013-sign' && e.statement.predicate.step === 'sign.request')));
  expectFailure(await verify(root), { file: file('0013-sign'), line: lineOf(root, '0013-sign', 'sign.result'), kind: 'policy' }, /sign\.result for key k[0-9a-f]+ is backed by 0 custodians' requests \(none\); the key needs 2/);
});

test('a sign request for another message does not count', async () => {
  const root = copyGolden();
  editChain(root, (entries) => {
    const e = entries[at(entries, '0013-sign', 'sign.request', 1)]!;
    e.statement.predicate.params = { ...e.statement.predicate.params, messageDigest: 'ab'.repeat(32) };
    return entries;
  });
  expectFailure(await verify(root), { file: file('0013-sign'), line: lineOf(root, '0013-sign', 'sign.result'), kind: 'policy' }, /backed by 1 custodians' requests \(alice\); the key needs 2/);
});

test('a sign.result whose signature does not verify, re-signed by the generator', async () => {
  const root = copyGolden();
  editChain(root, (entries) => {
    const e = entries[at(entries, '0013-sign', 'sign.result')]!;
    const sig = e.statement.predicate.result.signature as string;
    e.statement.predicate.result = { signature: (sig[0] === '0' ? '1' : '0') + sig.slice(1) };
    return entries;
  });
  expectFailure(await verify(root), { file: file('0013-sign'), line: lineOf(root, '0013-sign', 'sign.result'), kind: 'policy' }, /the signature in sign\.result does not verify under key/);
});
