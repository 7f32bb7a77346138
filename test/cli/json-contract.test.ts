import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { keyrite, passphraseFile, tempDir, type Run } from '../support/cli.js';
import { FAST, makeWorkspace, oneObject, ok, refused, type TestWorkspace } from '../support/workspace.js';
import { startArgs } from '../support/recovery.js';
import { CUSTODIANS, everyone, lifecycleWorkspace } from '../support/lifecycle.js';
import { lineDigest } from '../../src/evidence/chain.js';
import { checkpointWords } from '../../src/base/pgpwords.js';

// docs/ARCHITECTURE.md §7: under --json, stdout carries exactly one object, {ok:true,...} or
// {ok:false,error:{code,message[,hint]}}; exit 0 done, 1 refused or failed, 2 usage. Without a
// TTY (CI set) nothing prompts, and a missing input is an exit-2 error naming the flag — in the
// message when the CLI finds it missing, in the hint when a lower layer does.

let w: TestWorkspace;
let setup: Run;
let releaseTo = '';
let recorded = { session: '', recipient: '' }; // a recovery session the start recorded
const quorum = () => ['--approvers', 'bob,carol', ...w.passArgs('generator', 'witness', 'bob', 'carol')];
before(async () => {
  w = await makeWorkspace({ k: 2, m: 3, setup: false });
  setup = await w.kr(['custodian', 'setup', '--json', '--custodian', 'alice', '--guardians', 'g1,g2,g3', '--threshold', '2', ...w.passArgs('alice')]);
  releaseTo = JSON.parse(readFileSync(w.pubFile('g3'), 'utf8')).recipient;
  recorded = ok(await w.kr(await startArgs(w, 'alice', w.extraPassphrase('alice', 'contract'))), 'recover start');
});

test('success: every foundation command prints exactly one {ok:true} object', async () => {
  // init, in a fresh directory, with --json after the command (global options anywhere)
  const dir = join(tempDir('keyrite-json-'), 'ws');
  const gp = passphraseFile(tempDir('keyrite-pass-'), 'generator');
  const init = sealedIn(dir, ok(await keyrite(['init', '--json', '--workspace', dir, FAST, '--yes', '--passphrase-file', `generator=${gp}`]), 'init'));
  assert.equal(init.workspace, dir);
  assert.equal(typeof init.generator.recipient, 'string');
  assert.deepEqual(init.nodes, ['node-1', 'node-2', 'node-3']);
  const zp = passphraseFile(tempDir('keyrite-pass-'), 'zoe');
  const enrolled = sealedIn(dir, ok(await keyrite(['--workspace', dir, FAST, '--yes', 'identity', 'new', '--name', 'zoe', '--role', 'auditor', '--passphrase-file', `zoe=${zp}`, '--json']), 'identity new'));
  assert.equal(enrolled.identity.name, 'zoe');
  assert.equal(enrolled.identity.role, 'auditor');

  const split = sealedIn(w.root, ok(setup, 'custodian setup'));
  assert.equal(split.custodian, 'alice');
  assert.deepEqual([split.k, split.m], [2, 3]);
  assert.deepEqual(split.shares.map((x: any) => x.guardian), ['g1', 'g2', 'g3']);

  const show = ok(await w.kr(['--json', 'identity', 'show', '--name', 'g1']), 'identity show --name');
  assert.equal(show.identity.name, 'g1');
  ok(await w.kr(['identity', 'show', '--file', w.pubFile('g1'), '--json']), 'identity show --file');

  const check = sealedIn(w.root, ok(await w.kr(['guardian', 'check', '--guardian', 'g1', '--custodian', 'alice', '--json', ...w.passArgs('g1')]), 'guardian check'));
  assert.equal(check.index, 1);

  const newPass = w.extraPassphrase('alice', 'new');
  const start = sealedIn(w.root, ok(await w.kr(await startArgs(w, 'alice', newPass)), 'recover start'));
  const released: string[] = [];
  for (const g of ['g1', 'g2']) {
    const r = ok(await w.kr(['guardian', 'release', '--json', '--guardian', g, '--custodian', 'alice', '--session', start.session, '--to', start.recipient, ...w.passArgs(g)]), 'release');
    released.push('--released', `${g}=${r.path}`);
  }
  const quorum = await w.quorumArgs('alice');
  const done = sealedIn(w.root, ok(await w.kr(['recover', 'custodian', '--custodian', 'alice', '--session', start.session, ...released, '--json', '--out', w.freshDir('json'), '--passphrase-file', `alice=${newPass}`, ...quorum]), 'recover complete'));
  assert.equal(done.custodian, 'alice');
  const drill = sealedIn(w.root, ok(await w.kr(['recover', 'custodian', '--custodian', 'alice', '--share', `g2=${w.shareFile('g2', 'alice')}`, '--share', `g3=${w.shareFile('g3', 'alice')}`, '--json', '--out', w.freshDir('json'), '--passphrase-file', `alice=${newPass}`, ...w.passArgs('g2', 'g3'), ...quorum]), 'recover drill'));
  assert.deepEqual(drill.guardians, ['g2', 'g3']);
});

/**
 * A result of a command that writes evidence names its ceremony and the new head: the digest of
 * that ceremony's seal, the last line of its transcript (issue 11, item 5).
 */
function sealedIn(root: string, result: any): any {
  assert.match(String(result.ceremony), /^\d{4}-[a-z-]+$/, `the result names its ceremony: ${JSON.stringify(result)}`);
  const lines = readFileSync(join(root, 'transcripts', `${result.ceremony}.jsonl`), 'utf8').trimEnd().split('\n');
  assert.equal(result.head, lineDigest(lines.at(-1)!), `${result.ceremony}: head is its seal's digest`);
  assert.equal(JSON.parse(Buffer.from(JSON.parse(lines.at(-1)!).payload, 'base64').toString('utf8')).predicate.step, 'ceremony.seal');
  return result;
}

test('every key ceremony\'s result carries its ceremony and its head', async () => {
  const tw = await lifecycleWorkspace({ open: true });
  const seal = (args: string[], what: string) => tw.kr([...args, '--json']).then((r) => sealedIn(tw.root, ok(r, what)));
  await seal(['roster', 'seal', ...tw.passArgs(tw.generator, tw.witness)], 'roster seal');
  const key = await seal(['keygen', '--engine', 'ed25519', '--custodians', CUSTODIANS.join(','), '--label', 'contract', ...everyone(tw)], 'keygen');
  await seal(['export', '--key', key.keyId, '--delete-after-export', ...everyone(tw)], 'export');
  await seal(['shard', 'check', '--key', key.keyId, '--custodian', 'alice', ...tw.passArgs('alice')], 'shard check');
  const signed = await seal(['sign', '--key', key.keyId, '--signer', 'alice', '--signer', 'bob', '--message-hex', '00ff', ...everyone(tw)], 'sign');
  // Without --json: the ceremony id, the head in hex and its 8-word checkpoint, no line past 80 columns.
  const text = await tw.kr(['shard', 'check', '--key', key.keyId, '--custodian', 'bob', ...tw.passArgs('bob')]);
  assert.equal(text.code, 0, text.stderr);
  const ceremony = String(Number(signed.ceremony.slice(0, 4)) + 1).padStart(4, '0') + '-shard-check';
  const head = lineDigest(readFileSync(join(tw.root, 'transcripts', `${ceremony}.jsonl`), 'utf8').trimEnd().split('\n').at(-1)!);
  assert.match(text.stdout, new RegExp(`Ceremony ${ceremony} sealed`));
  assert.ok(text.stdout.includes(head.slice(0, 32).match(/.{4}/g)!.join(' ')), text.stdout);
  assert.ok(text.stdout.replace(/\s+/g, ' ').includes(`checkpoint: ${checkpointWords(head)}`), text.stdout);
  for (const line of text.stdout.split('\n')) assert.ok([...line].length <= 80 || !/checkpoint|^ +[0-9a-f]{4} /.test(line), line);
  await seal(['refresh', '--key', key.keyId, '--approvers', 'bob,carol', ...everyone(tw)], 'refresh');
  await seal(['reshare', '--key', key.keyId, '--custodians', CUSTODIANS.join(','), '--approvers', 'bob,carol', ...everyone(tw)], 'reshare');
  await seal(['key', 'retire', '--key', key.keyId, '--approvers', 'bob,carol', ...everyone(tw)], 'key retire');
});

interface Case {
  name: string;
  args: () => string[];
  exit: number;
  code: string;
  mentions?: () => string[];
  /** What the CLI's hint names; without it, the error carries no hint. */
  hint?: string[];
  raw?: boolean; // run without the helper's --workspace/--yes defaults
}

const cases: Case[] = [
  // usage (exit 2)
  { name: 'missing --passphrase-file without a TTY', args: () => ['guardian', 'check', '--guardian', 'g1', '--custodian', 'alice'], exit: 2, code: 'MISSING_INPUT', mentions: () => ['--passphrase-file', 'g1'] },
  { name: 'missing new passphrase (recovery start)', args: () => ['recover', 'custodian', '--custodian', 'alice', ...quorum()], exit: 2, code: 'MISSING_INPUT', mentions: () => ['--passphrase-file', 'alice'] },
  { name: 'missing required option', args: () => ['guardian', 'check', '--guardian', 'g1'], exit: 2, code: 'USAGE', mentions: () => ['--custodian'] },
  { name: 'unknown option', args: () => ['guardian', 'check', '--guardian', 'g1', '--custodian', 'alice', '--frobnicate'], exit: 2, code: 'USAGE', mentions: () => ['--frobnicate'] },
  { name: 'unknown command', args: () => ['frobnicate'], exit: 2, code: 'USAGE', mentions: () => ['frobnicate'] },
  { name: 'bad role', args: () => ['identity', 'new', '--name', 'zed', '--role', 'overlord'], exit: 2, code: 'USAGE', mentions: () => ['overlord'] },
  { name: 'bad name', args: () => ['identity', 'new', '--name', 'Zed!', '--role', 'auditor', '--passphrase-file', `Zed!=${w.pass.g1}`], exit: 2, code: 'BAD_NAME', mentions: () => ['Zed!'] },
  { name: 'malformed NAME=PATH', args: () => ['guardian', 'check', '--guardian', 'g1', '--custodian', 'alice', '--passphrase-file', 'g1'], exit: 2, code: 'USAGE', mentions: () => ['NAME=PATH'] },
  { name: 'release without --yes and without a TTY', raw: true, args: () => ['--workspace', w.root, 'guardian', 'release', '--guardian', 'g1', '--custodian', 'alice', '--session', recorded.session, '--to', recorded.recipient, ...w.passArgs('g1')], exit: 2, code: 'NOT_CONFIRMED', mentions: () => ['--yes'] },
  { name: 'release to a non-recipient', args: () => ['guardian', 'release', '--guardian', 'g1', '--custodian', 'alice', '--session', '0123456789abcdef', '--to', 'age1nope', ...w.passArgs('g1')], exit: 2, code: 'BAD_RECIPIENT', mentions: () => ['age1nope'] },
  { name: 'release for a malformed session id', args: () => ['guardian', 'release', '--guardian', 'g1', '--custodian', 'alice', '--session', 'xyz', '--to', releaseTo, ...w.passArgs('g1')], exit: 2, code: 'BAD_SESSION', mentions: () => ['xyz'] },
  { name: '--session without --released', args: () => ['recover', 'custodian', '--custodian', 'alice', '--session', '0123456789abcdef'], exit: 2, code: 'USAGE', mentions: () => ['--released'] },
  // refused (exit 1)
  { name: 'no workspace', raw: true, args: () => ['--workspace', join(w.base, 'nowhere'), 'guardian', 'check', '--guardian', 'g1', '--custodian', 'alice', ...w.passArgs('g1')], exit: 1, code: 'NO_WORKSPACE', mentions: () => [join(w.base, 'nowhere')], hint: ['keyrite init', '--workspace'] },
  { name: 'not enrolled', args: () => ['guardian', 'check', '--guardian', 'g1', '--custodian', 'nobody', ...w.passArgs('g1')], exit: 1, code: 'NOT_ENROLLED', mentions: () => ['nobody'], hint: ['keyrite identity new'] },
  { name: 'wrong passphrase', args: () => ['guardian', 'check', '--guardian', 'g1', '--custodian', 'alice', '--passphrase-file', `g1=${w.pass.g2}`], exit: 1, code: 'WRONG_PASSPHRASE', mentions: () => ['g1'] },
  { name: 'unreadable passphrase file', args: () => ['guardian', 'check', '--guardian', 'g1', '--custodian', 'alice', '--passphrase-file', `g1=${join(w.base, 'missing.pass')}`], exit: 1, code: 'NOT_FOUND', mentions: () => ['g1', join(w.base, 'missing.pass')] },
  { name: 'weak new passphrase', args: () => ['recover', 'custodian', '--custodian', 'alice', '--passphrase-file', `alice=${w.extraPassphrase('alice', 'weak', 'short')}`, ...quorum()], exit: 1, code: 'WEAK_PASSPHRASE', mentions: () => ['alice', '12'] },
  { name: 'unknown recovery session', args: () => ['recover', 'custodian', '--custodian', 'alice', '--session', 'ffffffffffffffff', '--released', `g1=${w.base}/a`, '--released', `g2=${w.base}/b`, '--passphrase-file', `alice=${w.pass.alice}`], exit: 1, code: 'SESSION_NOT_RECORDED', mentions: () => ['ffffffffffffffff'], hint: ['keyrite recover custodian'] },
  { name: 'release to another recipient than the session recorded', args: () => ['guardian', 'release', '--guardian', 'g1', '--custodian', 'alice', '--session', recorded.session, '--to', releaseTo, ...w.passArgs('g1')], exit: 1, code: 'WRONG_RECIPIENT', mentions: () => [recorded.session, recorded.recipient, releaseTo], hint: ['--to'] },
];

for (const c of cases) {
  test(`failure under --json: ${c.name} → exit ${c.exit}, ${c.code}`, async () => {
    const args = c.args();
    const r = c.raw ? await keyrite([...args, '--json', FAST]) : await w.kr([...args, '--json']);
    const obj = refused(r, c.exit, c.code, c.mentions?.() ?? []);
    assert.deepEqual(Object.keys(obj.error).sort(), c.hint ? ['code', 'hint', 'message'] : ['code', 'message']);
    assert.match(obj.error.code, /^[A-Z_]+$/);
    for (const h of c.hint ?? []) assert.ok(obj.error.hint.includes(h), `the hint should name ${JSON.stringify(h)}: ${obj.error.hint}`);
  });
}

test('without --json a refusal goes to stderr as one line, stdout stays empty', async () => {
  const r = await w.kr(['guardian', 'check', '--guardian', 'g1', '--custodian', 'alice', '--passphrase-file', `g1=${w.pass.g2}`]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^keyrite: wrong passphrase for .*g1/);
  assert.throws(() => oneObject(r));
});

test('without --json a lower layer\'s refusal ends in the CLI\'s hint, on the same line', async () => {
  const r = await w.kr(['guardian', 'check', '--guardian', 'g1', '--custodian', 'nobody', ...w.passArgs('g1')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^keyrite: nobody is not enrolled in the roster.*; enrol them with "keyrite identity new --name NAME --role ROLE"\n$/);
});
