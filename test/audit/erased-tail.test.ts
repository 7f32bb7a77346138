import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyGolden, GOLDEN, goldenAnchors, PEOPLE } from '../../fixtures/golden.js';
import { readLines, writeLines } from '../../fixtures/chain-tools.js';
import { keyrite, snapshot } from '../support/cli.js';
import { assertUnchanged, ok, refused } from '../support/workspace.js';

// Finding 6 of the security review, through the real CLI on the golden workspace: the tail of
// the history — the last sign ceremony — erased, by deleting its file, by garbling its last line
// with a newline, or by cutting it to look like a crash. Without anchors the shorter history is
// self-consistent; a witness's earlier head given as --checkpoint, and a signer's receipt given
// as --receipt, each catch the erasure. The honest history passes against an earlier witnessed
// head, which --head (the last line) does not accept.

const anchors = goldenAnchors();
const LAST = 'transcripts/0019-sign.jsonl';
const receiptOf = (root: string, signer: string, ceremony: string) => join(root, 'holdings', signer, `${signer}.${ceremony}.receipt.json`);
const headOf = (root: string, signer: string, ceremony: string): string => JSON.parse(readFileSync(receiptOf(root, signer, ceremony), 'utf8')).head;

const verify = (root: string, ...args: string[]) => keyrite(['--workspace', root, '--json', 'audit', 'verify', '--genesis', anchors.genesis, ...args]);

interface Failure {
  file: string;
  line: number;
  kind: string;
  reason: string;
}

function failsWith(r: Awaited<ReturnType<typeof verify>>, match: (f: Failure) => boolean): Failure[] {
  const failures = refused(r, 1, 'VERIFY_FAILED').failures as Failure[];
  assert.ok(failures.some(match), JSON.stringify(failures, null, 1));
  return failures;
}

test('each sign ceremony left a receipt per signer, signed by the generator, naming its ceremony and head', () => {
  const carol = JSON.parse(readFileSync(receiptOf(GOLDEN, 'carol', '0019-sign'), 'utf8'));
  assert.equal(carol.ceremony, '0019-sign');
  assert.equal(carol.head, anchors.head, 'the last sign ceremony\'s seal is the witnessed head');
  assert.equal(carol.keyId, anchors.keyId);
  assert.equal(carol.by, 'gen');
  assert.match(carol.messageDigest, /^[0-9a-f]{64}$/);
  for (const [signer, ceremony] of [['alice', '0013-sign'], ['bob', '0013-sign'], ['alice', '0019-sign']]) {
    assert.equal(JSON.parse(readFileSync(receiptOf(GOLDEN, signer!, ceremony!), 'utf8')).signer, signer);
  }
});

test('the honest history passes against an earlier witnessed head as --checkpoint, and every receipt; --head must be the last line', async () => {
  const earlier = headOf(GOLDEN, 'bob', '0013-sign');
  const receipts = [['alice', '0013-sign'], ['bob', '0013-sign'], ['alice', '0019-sign'], ['carol', '0019-sign']].flatMap(([s, c]) => ['--receipt', receiptOf(GOLDEN, s!, c!)]);
  const r = ok(await verify(GOLDEN, '--checkpoint', earlier, '--checkpoint', anchors.head, ...receipts), 'audit verify with checkpoints and receipts');
  assert.equal(r.head, anchors.head);
  const human = await keyrite(['--workspace', GOLDEN, 'audit', 'verify', '--genesis', anchors.genesis, '--checkpoint', earlier]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /match the witnessed genesis and 1 checkpoint/);
  failsWith(await verify(GOLDEN, '--head', earlier), (f) => f.kind === 'anchor' && f.file === LAST && /is not the witnessed head/.test(f.reason));
});

test('the last sign ceremony deleted: caught by --checkpoint and by --receipt', async () => {
  const root = copyGolden();
  rmSync(join(root, LAST));
  ok(await verify(root), 'without anchors the shorter history is self-consistent');
  failsWith(await verify(root, '--checkpoint', anchors.head), (f) => f.kind === 'anchor' && new RegExp(`checkpoint ${anchors.head} is not the digest of any line`).test(f.reason));
  const receipt = receiptOf(root, 'carol', '0019-sign');
  failsWith(await verify(root, '--receipt', receipt), (f) => f.kind === 'anchor' && f.file === 'holdings/carol/carol.0019-sign.receipt.json' && /ceremony 0019-sign is not in the chain/.test(f.reason));
  // The earlier ceremony's receipts still pass: only the erased one is missing.
  ok(await verify(root, '--receipt', receiptOf(root, 'bob', '0013-sign'), '--checkpoint', headOf(root, 'bob', '0013-sign')));
});

test('the last line garbled with a newline is damage, not a torn write: no command sets it aside, and both anchors catch it', async () => {
  const root = copyGolden();
  const path = join(root, LAST);
  const lines = readLines(path);
  writeLines(path, [...lines.slice(0, -1), lines.at(-1)!.slice(0, 120)]);
  const v = failsWith(await verify(root), (f) => f.kind === 'form' && f.file === LAST && f.line === lines.length);
  assert.ok(!v.some((f) => f.kind === 'torn'), 'a newline-terminated line is never torn');
  failsWith(await verify(root, '--checkpoint', anchors.head), (f) => f.kind === 'anchor' && /checkpoint .* is not the digest of any line/.test(f.reason));
  failsWith(await verify(root, '--receipt', receiptOf(root, 'carol', '0019-sign')), (f) => f.kind === 'anchor' && /head [0-9a-f]{64} is not the seal of ceremony 0019-sign/.test(f.reason));

  // The next ceremony refuses the damaged history and changes nothing: no .torn, no interruption recorded.
  const before = snapshot(root);
  const next = await keyrite(['--workspace', root, '--json', '--yes', 'guardian', 'check', '--guardian', 'gal-1', '--custodian', 'alice', '--passphrase-file', `gal-1=${join(PEOPLE, 'gal-1.pass')}`]);
  refused(next, 1, 'TRANSCRIPT_DAMAGED', [`${LAST}:${lines.length}`]);
  assertUnchanged(before, snapshot(root), 'the workspace');
});

test('the last sign ceremony cut as a crash would leave it: recorded as interrupted, yet --checkpoint and --receipt still catch the lost seal', async () => {
  const root = copyGolden();
  const path = join(root, LAST);
  const lines = readLines(path);
  truncateSync(path, readFileSync(path).length - 40); // the seal line loses its end and its newline
  const next = await keyrite(['--workspace', root, '--json', '--yes', 'guardian', 'check', '--guardian', 'gal-1', '--custodian', 'alice', '--passphrase-file', `gal-1=${join(PEOPLE, 'gal-1.pass')}`]);
  ok(next, 'the next ceremony after a torn write');
  assert.equal(readLines(path).length, lines.length - 1, 'the transcript keeps its intact lines');
  ok(await verify(root), 'the interruption is recorded, so the history is consistent');
  failsWith(await verify(root, '--checkpoint', anchors.head), (f) => f.kind === 'anchor' && /checkpoint/.test(f.reason));
  failsWith(await verify(root, '--receipt', receiptOf(root, 'carol', '0019-sign')), (f) => f.kind === 'anchor' && /is not the seal of ceremony 0019-sign/.test(f.reason));
});

test('a receipt that is altered, or is not a receipt, fails', async () => {
  const root = copyGolden();
  const file = receiptOf(root, 'carol', '0019-sign');
  const receipt = JSON.parse(readFileSync(file, 'utf8'));
  writeFileSync(file, JSON.stringify({ ...receipt, messageDigest: 'ab'.repeat(32) }));
  failsWith(await verify(root, '--receipt', file), (f) => f.kind === 'anchor' && /not signed by gen, who sealed the ceremony/.test(f.reason));
  writeFileSync(file, '{"v":1}');
  failsWith(await verify(root, '--receipt', file), (f) => f.kind === 'anchor' && /not a signing receipt/.test(f.reason));
  failsWith(await verify(root, '--receipt', '/dev/zero'), (f) => f.kind === 'anchor' && f.file === '/dev/zero' && /reads only regular files/.test(f.reason));
  const usage = await keyrite(['--workspace', root, '--json', 'audit', 'verify', '--checkpoint', 'abc']);
  refused(usage, 2, 'USAGE', ['--checkpoint must be a sha256 digest']);
});

test('sign names each signer\'s receipt in its output, and the receipts verify against the new head', async () => {
  const root = copyGolden();
  const pass = ['gen', 'alice', 'carol'].flatMap((n) => ['--passphrase-file', `${n}=${join(PEOPLE, `${n}.pass`)}`]);
  const r = ok(await keyrite(['--workspace', root, '--json', '--yes', 'sign', '--key', anchors.keyId, '--signer', 'alice', '--signer', 'carol', '--message-hex', 'ab'.repeat(32), ...pass]));
  assert.deepEqual(r.receipts, [
    { signer: 'alice', file: `holdings/alice/alice.${r.ceremony}.receipt.json` },
    { signer: 'carol', file: `holdings/carol/carol.${r.ceremony}.receipt.json` },
  ]);
  const receipt = JSON.parse(readFileSync(join(root, r.receipts[0].file), 'utf8'));
  assert.deepEqual({ ceremony: receipt.ceremony, keyId: receipt.keyId, messageDigest: receipt.messageDigest, signer: receipt.signer }, { ceremony: r.ceremony, keyId: anchors.keyId, messageDigest: r.messageDigest, signer: 'alice' });
  const v = ok(await verify(root, '--checkpoint', anchors.head, ...r.receipts.flatMap((x: { file: string }) => ['--receipt', join(root, x.file)])));
  assert.equal(v.head, receipt.head, 'the receipt names the seal that is now the head');
});

test('a ceremony file whose only line was torn is kept, empty, and passes only because the next ceremony records it', async () => {
  const root = copyGolden();
  const emptied = join(root, 'transcripts', '0020-sign.jsonl');
  writeFileSync(emptied, readLines(join(root, LAST))[0]!.slice(0, 50)); // a crash while writing a ceremony's first line
  ok(await keyrite(['--workspace', root, '--json', '--yes', 'guardian', 'check', '--guardian', 'gal-1', '--custodian', 'alice', '--passphrase-file', `gal-1=${join(PEOPLE, 'gal-1.pass')}`]));
  const next = join(root, 'transcripts', '0021-guardian-check.jsonl');
  assert.equal(readFileSync(emptied).length, 0, 'the file is kept, truncated to its intact lines: none');
  assert.equal(readFileSync(emptied + '.torn').length, 50);
  const first = JSON.parse(Buffer.from(JSON.parse(readLines(next)[0]!).payload, 'base64').toString()).predicate;
  assert.equal(first.step, 'ceremony.interrupted');
  assert.deepEqual(first.params.torn.map((t: { file: string }) => t.file), ['transcripts/0020-sign.jsonl.torn']);
  ok(await verify(root, '--checkpoint', anchors.head));
  rmSync(next);
  failsWith(await verify(root), (f) => f.kind === 'empty' && f.file === 'transcripts/0020-sign.jsonl');
});
