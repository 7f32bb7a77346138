import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { pgpWords } from '../../src/base/pgpwords.js';
import { verifyObject } from '../../src/base/ed25519.js';
import { newIdentity, publicOf, unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { releaseShare } from '../../src/custody/release.js';
import { recipientFingerprint } from '../../src/state/recovery.js';
import { loadFixtureKeys, readChain, readLines, writeChain, writeLines, type ChainEntry } from '../../fixtures/chain-tools.js';
import { keyrite, snapshot, tempDir, type Run } from '../support/cli.js';
import { steps } from '../support/lifecycle.js';
import { finish, release, releaseArgs, startRecovery, type Started } from '../support/recovery.js';
import { FAST, isEmptyDir, makeWorkspace, ok, readJsonFile, refused, watch, type TestWorkspace } from '../support/workspace.js';

// Custodian recovery decided from evidence (CEREMONY.md, "Custodian recovery"): the start is a
// ceremony of its own, approved by the policy's quorum (never the custodian recovered) and
// sealed with the witness, that records the session and its one-off recipient; a guardian
// releases, from a copy of the public files, only to a session so recorded and only to its
// recorded recipient, writing nothing but the signed release; the finish records each release
// it uses, and the fold and the verifier refuse a forked or missing one.

let w: TestWorkspace; // alice: g1,g2,g3 (2-of-3); bob: h1,h2,h3; approvers bob, carol
let newPass: string;
let S: Started;

before(async () => {
  w = await makeWorkspace({ guardians: { alice: ['g1', 'g2', 'g3'], bob: ['h1', 'h2', 'h3'] }, k: 2, m: 3 });
  newPass = w.extraPassphrase('alice', 'new');
  S = await startRecovery(w, 'alice', newPass);
});

/** keyrite on another workspace directory than `w`'s (a device's copy), as `w.kr` runs it. */
const krAt = (root: string, args: string[]) => keyrite(['--workspace', root, FAST, '--yes', ...args]);

/** Runs `args` and checks that nothing at all changed in the workspace, transcripts included. */
async function untouched(args: string[], ...more: string[]): Promise<Run> {
  const before = [w.root, ...more].map((d) => snapshot(d));
  const r = await w.kr(args);
  [w.root, ...more].forEach((d, i) => assert.deepEqual(snapshot(d), before[i], `${d} changed`));
  return r;
}

describe('the start', { concurrency: 1 }, () => {
  const start = (approvers: string[], people: string[]) => [
    'recover', 'custodian', '--custodian', 'alice', '--json', '--passphrase-file', `alice=${newPass}`, '--approvers', approvers.join(','), ...w.passArgs(...people),
  ];

  test('is refused with fewer approvers than the policy asks', async () => {
    refused(await untouched(start(['bob'], ['generator', 'witness', 'bob'])), 1, 'QUORUM_NOT_MET', ['alice', '1 approval', 'needs 2']);
  });

  test('is refused when the custodian recovered approves it', async () => {
    refused(await untouched(start(['alice', 'bob'], ['generator', 'witness', 'bob'])), 1, 'NOT_PERMITTED', ['alice', 'own recovery']);
  });

  test('is refused without the witness', async () => {
    refused(await untouched(start(['bob', 'carol'], ['generator', 'bob', 'carol'])), 2, 'MISSING_INPUT', ['witness']);
  });

  test('records the approvals, the session and its one-off recipient, sealed with the witness', () => {
    const recorded = steps(w, S.ceremony);
    const names = recorded.map((e) => e.step).filter((s) => s !== 'checklist.confirm');
    assert.deepEqual(names, ['ceremony.start', 'approval', 'approval', 'recover.start', 'ceremony.seal']);
    const approvals = recorded.filter((e) => e.step === 'approval').map((e) => e.params.approval);
    assert.deepEqual(approvals.map((a) => [a.approver, a.request.operation, a.request.target]), [['bob', 'recover-custodian', 'alice'], ['carol', 'recover-custodian', 'alice']]);
    const st = recorded.find((e) => e.step === 'recover.start')!;
    assert.equal(st.actor, 'generator');
    const request = approvals[0].digest;
    assert.equal(approvals[1].digest, request, 'both approve the one request the start names');
    assert.deepEqual(st.params, { target: 'alice', session: S.session, setId: readJsonFile(w.setFile('alice')).setId, recipient: S.recipient, fingerprint: S.fingerprint, request });
    assert.equal(S.fingerprint, recipientFingerprint(S.session, 'alice', S.recipient));
    assert.equal(S.words, pgpWords(S.fingerprint));
    assert.equal(recorded.at(-1)!.signatures, 2, 'the generator and the witness seal the start');
    const oneOff = join(w.root, 'recovery', S.session, 'one-off.identity.age');
    assert.equal(statSync(oneOff).mode & 0o777, 0o600);
    assert.ok(!existsSync(join(w.root, 'recovery', S.session, 'request.json')), 'the session lives in the transcript, not in a request file');
  });
});

/** A copy of the workspace whose chain `edit` changed, re-linked and re-signed with the real keys. */
async function tamperedCopy(edit: (chain: ChainEntry[]) => ChainEntry[], extra: Identity[] = []): Promise<string> {
  const root = join(tempDir('keyrite-recovery-tampered-'), 'ws');
  cpSync(w.root, root, { recursive: true });
  const keys = await loadFixtureKeys(root, w.secretsDir);
  for (const id of extra) keys.set(publicOf(id).fingerprint, id);
  writeChain(root, edit(readChain(root, keys)));
  return root;
}

const inStart = (e: ChainEntry) => e.ceremony === S.ceremony;

describe('a crafted start', { concurrency: 1 }, () => {
  test('without its approvals: the guardian refuses it, the audit names the missing quorum', async () => {
    const root = await tamperedCopy((chain) => chain.filter((e) => !(inStart(e) && e.statement.predicate.step === 'approval')));
    const before = snapshot(root);
    refused(await krAt(root, releaseArgs(w, 'g1', 'alice', S.session, S.recipient)), 1, 'TRANSCRIPT_DAMAGED', ['recover.start', 'needs 2 approvals for recover-custodian', 'found 0']);
    assert.deepEqual(snapshot(root), before, 'nothing written');
    const report = JSON.parse((await krAt(root, ['audit', 'verify', '--json'])).stdout);
    assert.ok(report.failures.some((f: any) => f.kind === 'transition' && /recover.start .*needs 2 approvals for recover-custodian/.test(f.reason)), JSON.stringify(report.failures));
  });

  test('sealed without the witness: the guardian refuses it, the audit names the missing co-signature', async () => {
    const root = await tamperedCopy((chain) => chain.map((e) => (inStart(e) && e.statement.predicate.step === 'ceremony.seal' ? { ...e, signers: e.signers.slice(0, 1) } : e)));
    refused(await krAt(root, releaseArgs(w, 'g1', 'alice', S.session, S.recipient)), 1, 'TRANSCRIPT_DAMAGED', ['witness']);
    const report = JSON.parse((await krAt(root, ['audit', 'verify', '--json'])).stdout);
    assert.ok(report.failures.some((f: any) => f.kind === 'script' && /recover-start seal needs co-signatures by witness/.test(f.reason)), JSON.stringify(report.failures));
  });
});

/** The guardian's device: a copy of the workspace's public files and the guardian's own holdings. */
function device(guardian: string): string {
  const root = join(tempDir('keyrite-guardian-device-'), 'ws');
  for (const part of ['transcripts', 'guardians', 'identities', 'roster.json', join('holdings', guardian)]) cpSync(join(w.root, part), join(root, part), { recursive: true });
  return root;
}

const rel: Record<string, string> = {}; // guardian → release for S, made on the guardian's device

describe('guardian release', { concurrency: 1 }, () => {
  test('is refused for a session no start recorded, and nothing is written', async () => {
    const out = w.freshDir('rel-unrecorded');
    const r = await untouched(releaseArgs(w, 'g1', 'alice', '0123456789abcdef', S.recipient, ['--out', out]), out);
    refused(r, 1, 'SESSION_NOT_RECORDED', ['0123456789abcdef', 'no recovery session']);
    assert.ok(isEmptyDir(out));
  });

  test('is refused for another --to than the recorded recipient, naming both, and nothing is written', async () => {
    const other = (await newIdentity('attacker', 'custodian')).recipient;
    const out = w.freshDir('rel-other-to');
    const r = await untouched(releaseArgs(w, 'g1', 'alice', S.session, other, ['--out', out]), out);
    refused(r, 1, 'WRONG_RECIPIENT', [S.session, S.recipient, other]);
    assert.ok(isEmptyDir(out));
  });

  test('is refused for a session that recovers another custodian', async () => {
    const out = w.freshDir('rel-other-custodian');
    refused(await untouched(releaseArgs(w, 'h1', 'bob', S.session, S.recipient, ['--out', out]), out), 1, 'WRONG_SESSION', [S.session, 'alice', 'bob']);
  });

  test('is refused for a session whose start was never sealed', async () => {
    const copy = w.clone();
    const file = join(copy.root, 'transcripts', `${S.ceremony}.jsonl`);
    writeLines(file, readLines(file).slice(0, -1)); // the seal, co-signed by the witness, is gone
    const r = await copy.kr(releaseArgs(copy, 'g1', 'alice', S.session, S.recipient));
    refused(r, 1, 'SESSION_NOT_RECORDED', [S.session, 'never sealed']);
    assert.ok(!existsSync(join(copy.holdings('g1'), `g1.release-${S.session}.json`)));
  });

  test('on the guardian\'s device shows the recorded fingerprint and writes only the signed release', async () => {
    for (const g of ['g1', 'g2', 'g3']) {
      const root = device(g);
      const before = snapshot(join(root, 'transcripts'));
      const r = ok(await krAt(root, releaseArgs(w, g, 'alice', S.session, S.recipient)), `release by ${g}`);
      assert.deepEqual(snapshot(join(root, 'transcripts')), before, 'no transcript entry on the guardian\'s device');
      assert.equal(r.fingerprint, S.fingerprint);
      assert.equal(r.words, pgpWords(S.fingerprint));
      assert.equal(r.path, join(root, 'holdings', g, `${g}.release-${S.session}.json`));
      assert.equal(statSync(r.path).mode & 0o777, 0o600);
      assert.ok(!existsSync(join(root, '.lock')) && !existsSync(join(root, 'keys')), 'nothing else is written');
      const statement = readJsonFile(r.path).statement;
      assert.deepEqual([statement.session, statement.custodian, statement.to, statement.guardian], [S.session, 'alice', S.recipient, g]);
      rel[g] = r.path;
    }
  });
});

describe('the finish', { concurrency: 1 }, () => {
  let S2: Started;
  const forged = (label: string, value: unknown) => {
    const p = join(w.base, `forged-${label}.json`);
    writeFileSync(p, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
    return p;
  };

  before(async () => {
    S2 = await startRecovery(w, 'alice', newPass);
  });

  async function refusedFinish(released: [string, string][], exit: number, code: string, mentions: string[]): Promise<void> {
    const out = w.freshDir('refused-finish');
    const unchanged = watch(w.root, out);
    const r = await finish(w, 'alice', S.session, released, newPass, out);
    unchanged();
    assert.ok(isEmptyDir(out));
    refused(r, exit, code, mentions);
  }

  test('refuses a release statement edited after the guardian signed it', async () => {
    const x = readJsonFile(rel.g2!);
    x.statement.index = 3;
    const p = forged('edited', x);
    await refusedFinish([['g1', rel.g1!], ['g2', p]], 1, 'BAD_SIGNATURE', ['g2', p]);
  });

  test('refuses a release made for another session (a forked release)', async () => {
    const other = await release(w, 'g2', 'alice', S2, ['--out', w.freshDir('s2')]);
    await refusedFinish([['g1', rel.g1!], ['g2', other]], 1, 'WRONG_SESSION', ['g2', other, S.session]);
  });

  test('refuses a release genuinely signed by the guardian for this session but to another recipient', async () => {
    const g2 = await unlockIdentity(readFileSync(w.identityFile('g2')), w.passphrases.g2!, 'g2');
    const elsewhere = (await newIdentity('attacker', 'custodian')).recipient;
    const p = forged('to-elsewhere', await releaseShare(readJsonFile(w.shareFile('g2', 'alice')), g2, S.session, elsewhere, 'g2 share'));
    await refusedFinish([['g1', rel.g1!], ['g2', p]], 1, 'WRONG_RECIPIENT', ['g2', p, S.recipient, elsewhere]);
  });

  test('refuses a release whose ciphertext was swapped for another', async () => {
    const x = readJsonFile(rel.g2!);
    x.share = readJsonFile(rel.g3!).share;
    const p = forged('swapped', x);
    await refusedFinish([['g1', rel.g1!], ['g2', p]], 1, 'BAD_SIGNATURE', ['g2', p]);
  });

  test('with k releases records each, and passes audit verify', async () => {
    const out = w.freshDir('finish-ok');
    const r = ok(await finish(w, 'alice', S.session, [['g1', rel.g1!], ['g3', rel.g3!]], newPass, out));
    assert.deepEqual(r.guardians, ['g1', 'g3']);
    const recorded = steps(w, r.ceremony).filter((e) => e.step !== 'checklist.confirm');
    assert.deepEqual(recorded.map((e) => e.step), ['ceremony.start', 'recover.release', 'recover.release', 'recover.intent', 'recover.result', 'roster.change', 'ceremony.seal']);
    const roster = readJsonFile(join(w.root, 'roster.json'));
    for (const [i, g] of ['g1', 'g3'].entries()) {
      const e = recorded[1 + i]!;
      assert.equal(e.actor, 'generator');
      assert.equal(e.params.guardian, g);
      const { sig, ...rest } = e.params.release;
      assert.ok(verifyObject(roster.members.find((m: any) => m.name === g).signingKey, rest, sig), `${g}'s signature is in the entry, checkable offline`);
      assert.deepEqual(e.params.release, readJsonFile(rel[g]!).statement);
      assert.ok(!JSON.stringify(e.params).includes(readJsonFile(rel[g]!).share), 'the ciphertext stays out of the transcript');
    }
    assert.deepEqual(recorded[3]!.params, { target: 'alice', session: S.session, setId: readJsonFile(w.setFile('alice')).setId, guardians: ['g1', 'g3'] });
    ok(await w.kr(['audit', 'verify', '--json']), 'audit verify');
  });

  test('a finished session takes no more releases and no second finish', async () => {
    refused(await untouched(releaseArgs(w, 'g2', 'alice', S.session, S.recipient)), 1, 'SESSION_NOT_RECORDED', [S.session, 'finished']);
    const out = w.freshDir('finish-again');
    const unchanged = watch(w.root, out);
    refused(await finish(w, 'alice', S.session, [['g1', rel.g1!], ['g3', rel.g3!]], newPass, out), 1, 'SESSION_NOT_RECORDED', [S.session]);
    unchanged();
  });

  test('audit verify fails when a release entry is removed from the transcript', async () => {
    const outs = readdirSync(w.base).filter((d) => d.startsWith('out-finish-ok-'));
    const recovered = await unlockIdentity(readFileSync(join(w.base, outs[0]!, 'alice.identity.age')), readFileSync(newPass, 'utf8').trim(), 'alice');
    // Re-linked and re-signed: only the release is missing.
    const root = await tamperedCopy((chain) => {
      const i = chain.findIndex((e) => e.statement.predicate.step === 'recover.release');
      return chain.filter((_, j) => j !== i);
    }, [recovered]);
    const r = await krAt(root, ['audit', 'verify', '--json']);
    const report = JSON.parse(r.stdout);
    assert.equal(r.code, 1);
    assert.equal(report.ok, false);
    const f = report.failures.find((x: any) => x.kind === 'transition');
    assert.ok(f, `a transition failure: ${JSON.stringify(report.failures)}`);
    assert.match(f.reason, /recover\.intent .*guardians \["g1","g3"\] are not the releases this ceremony recorded \(g3\)/);
  });

  test('the drill still works with the guardians\' own files, recorded as a drill', async () => {
    const r = ok(await w.kr([
      'recover', 'custodian', '--custodian', 'alice', '--json', '--share', `g1=${w.shareFile('g1', 'alice')}`, '--share', `g2=${w.shareFile('g2', 'alice')}`,
      ...w.passArgs('g1', 'g2'), '--passphrase-file', `alice=${newPass}`, ...(await w.quorumArgs('alice')), '--out', w.freshDir('drill'),
    ]));
    const names = steps(w, r.ceremony).map((e) => e.step).filter((s) => s !== 'checklist.confirm');
    assert.deepEqual(names, ['ceremony.start', 'approval', 'approval', 'recover.drill', 'recover.result', 'roster.change', 'ceremony.seal']);
    ok(await w.kr(['audit', 'verify', '--json']), 'audit verify');
  });
});
