import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { canonical, sha256Hex } from '../../src/base/canonical.js';
import { loadState } from '../../src/audit/state.js';
import { DemoOperator } from '../../src/ceremony/demo-operator.js';
import { withSession } from '../../src/ceremony/kernel/session.js';
import { unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { sealShard, shardRoleName } from '../../src/custody/shard.js';
import { lineDigest, nextCeremonyId } from '../../src/evidence/chain.js';
import { entryStatement, signStatement, type EntryContent } from '../../src/evidence/entry.js';
import { loadScript } from '../../src/evidence/script.js';
import { Workspace } from '../../src/fs/workspace.js';
import { checkArtifactRule } from '../../src/state/artifacts.js';
import { keyRecordBytes } from '../../src/state/cache.js';
import { CUSTODIANS, everyone, readShard, shardFile } from '../support/lifecycle.js';
import { makeWorkspace, ok, refused, watch, type TestWorkspace } from '../support/workspace.js';

// Who may name which artifact (docs/ARCHITECTURE.md §6, "Artifacts"): a step names only the
// kinds its script declares, and a later digest for an artifact on record counts only from a
// step that declares it replaces it. The attack of the security review: a guardian edits the key
// record and has their drill record its new digest, so that the edited record passes audit. The
// forgeries are signed with the guardian's real key by the project's own signing code.

const unlock = (tw: TestWorkspace, name: string): Promise<Identity> => unlockIdentity(readFileSync(tw.identityFile(name)), tw.passphrases[name]!, name);

/** The key record edited as an attacker with write access would: same shape, another label. */
function tamperedRecord(tw: TestWorkspace, keyId: string): string {
  const record = JSON.parse(readFileSync(join(tw.root, 'keys', `${keyId}.json`), 'utf8'));
  return keyRecordBytes({ ...record, label: 'moved to the attacker' });
}

/** Records `content` in a guardian-check ceremony of `actor`'s, through the writer. */
async function recordDrill(tw: TestWorkspace, actor: Identity, content: Omit<EntryContent, 'step'>): Promise<void> {
  const ws = new Workspace(tw.root);
  await withSession({ ws, operator: new DemoOperator(), label: 'test: a crafted drill' }, (s) =>
    s.run({ script: 'guardian-check', actor, params: { custodian: 'alice' } }, async (c) => {
      await c.record({ step: 'drill.result', actor, result: { ok: true }, ...content });
      return {};
    }));
}

/** Appends a whole guardian-check ceremony signed by `actor`, past the writer, as an attacker with the guardian's key could. */
async function appendForgedDrill(tw: TestWorkspace, actor: Identity, content: Omit<EntryContent, 'step'>): Promise<string> {
  const ws = new Workspace(tw.root);
  const state = await loadState(ws);
  const script = loadScript('guardian-check');
  const id = nextCeremonyId(ws.transcriptsDir, script.name);
  const steps: EntryContent[] = [
    { step: 'ceremony.start', params: { custodian: 'alice', script: script.name } },
    { step: 'drill.result', result: { ok: true }, ...content },
    { step: 'ceremony.seal', params: { entries: 3 } },
  ];
  let prev = state.head;
  const lines = steps.map((content, seq) => {
    const line = canonical(signStatement(entryStatement({ ceremony: id, seq, prev, roster: state.rosterDigest, script: script.digest }, actor.name, content), [actor]));
    prev = lineDigest(line);
    return line;
  });
  writeFileSync(join(ws.transcriptsDir, `${id}.jsonl`), lines.join('\n') + '\n');
  return id;
}

describe('who may name which artifact', () => {
  let tw: TestWorkspace;
  let keyId: string;
  let keyFile: string;
  before(async () => {
    tw = await makeWorkspace();
    const k = ok(await tw.kr(['keygen', '--json', '--engine', 'ed25519', '--custodians', CUSTODIANS.join(','), '--label', 'artifacts', '--export', ...everyone(tw)]), 'keygen');
    keyId = k.keyId;
    keyFile = join(tw.root, 'keys', `${keyId}.json`);
  });

  test('a guardian\'s drill re-recording the key record is refused by the writer; nothing is recorded but the abort', async () => {
    const g1 = await unlock(tw, 'g1');
    const unchanged = watch(tw.root);
    const before = readdirSync(join(tw.root, 'transcripts'));
    const forged = sha256Hex(tamperedRecord(tw, keyId));
    await assert.rejects(recordDrill(tw, g1, { subjects: [{ name: `keys/${keyId}.json`, sha256: forged }] }), (e: any) => {
      assert.equal(e.code, 'ARTIFACT_NOT_ALLOWED');
      for (const word of ['drill.result', `keys/${keyId}.json`, 'key-record']) assert.ok(e.message.includes(word), `${e.message} names ${word}`);
      return true;
    });
    // Naming the key record even with its own digest: the drill's script declares no key-record.
    const onRecord = sha256Hex(readFileSync(keyFile));
    await assert.rejects(recordDrill(tw, g1, { subjects: [{ name: `keys/${keyId}.json`, sha256: onRecord }] }), (e: any) => e.code === 'ARTIFACT_NOT_ALLOWED' && /name no key-record/.test(e.message));
    unchanged();
    const added = readdirSync(join(tw.root, 'transcripts')).filter((f) => !before.includes(f));
    assert.equal(added.length, 2);
    for (const f of added) {
      const recorded = readFileSync(join(tw.root, 'transcripts', f), 'utf8').trim().split('\n').map((l) => JSON.parse(Buffer.from(JSON.parse(l).payload, 'base64').toString()).predicate.step);
      assert.deepEqual(recorded, ['ceremony.start', 'ceremony.abort']);
    }
    ok(await tw.kr(['audit', 'verify', '--json']), 'the history with the refused drills verifies');
  });

  test('a step naming an undeclared kind, or a name of no kind, is refused by the writer', async () => {
    const g1 = await unlock(tw, 'g1');
    const unchanged = watch(tw.root);
    const shard = sha256Hex(readFileSync(shardFile(tw, 'alice', keyId)));
    await assert.rejects(recordDrill(tw, g1, { subjects: [{ name: shardRoleName('alice', keyId, 1), sha256: shard }] }), (e: any) => e.code === 'ARTIFACT_NOT_ALLOWED' && /name no shard/.test(e.message));
    await assert.rejects(recordDrill(tw, g1, { subjects: [{ name: '../elsewhere/share.json', sha256: shard }] }), (e: any) => e.code === 'ARTIFACT_NOT_ALLOWED' && /no kind of keyrite artifact/.test(e.message));
    unchanged();
    ok(await tw.kr(['audit', 'verify', '--json']), 'the refused attempts leave a history that verifies');
  });

  test('a shard check may not replace the shard\'s digest: a re-sealed copy is refused before the ceremony opens', async () => {
    const copy = join(tw.freshDir('bob-medium'), 'bob.shard.age');
    const payload = await readShard(tw, 'bob', shardFile(tw, 'bob', keyId));
    const bob = await unlock(tw, 'bob');
    writeFileSync(copy, await sealShard(payload, bob.recipient), { mode: 0o600 });
    const unchanged = watch(tw.root);
    const transcripts = readdirSync(join(tw.root, 'transcripts'));
    refused(await tw.kr(['shard', 'check', '--json', '--key', keyId, '--custodian', 'bob', '--shard', `bob=${copy}`, ...tw.passArgs('bob')]), 1, 'DAMAGED_FILE', [copy, shardRoleName('bob', keyId, 1)]);
    unchanged();
    assert.deepEqual(readdirSync(join(tw.root, 'transcripts')), transcripts, 'no ceremony was opened');
  });

  test('the same forged drill appended past the writer: audit verify reports it, and the edited key record', async () => {
    const t = tw.clone();
    const bytes = tamperedRecord(t, keyId);
    const file = join(t.root, 'keys', `${keyId}.json`);
    const onRecord = sha256Hex(readFileSync(file));
    writeFileSync(file, bytes);
    const id = await appendForgedDrill(t, await unlock(t, 'g1'), { subjects: [{ name: `keys/${keyId}.json`, sha256: sha256Hex(bytes) }] });
    const r = await t.kr(['audit', 'verify', '--json']);
    assert.equal(r.code, 1);
    const failures = r.json.failures as { file: string; line: number; kind: string; reason: string }[];
    const drill = failures.find((f) => f.file === `transcripts/${id}.jsonl`);
    assert.ok(drill, JSON.stringify(failures));
    assert.equal(drill.kind, 'transition');
    assert.equal(drill.line, 2);
    assert.match(drill.reason, /drill\.result in \d{4}-guardian-check names keys\/k[0-9a-f]{16}\.json, a key-record; its script lets drill\.result name no key-record/);
    const artifact = failures.find((f) => f.kind === 'artifact');
    assert.ok(artifact, JSON.stringify(failures));
    assert.ok(artifact.reason.includes(`keys/${keyId}.json`) && artifact.reason.includes(onRecord), artifact.reason);
    assert.deepEqual(failures.map((f) => f.kind).sort(), ['artifact', 'transition'], 'the forgery is otherwise well signed: only the artifact rule objects');
    // Nothing is decided from that history: the next ceremony refuses it.
    refused(await t.kr(['guardian', 'check', '--json', '--guardian', 'g2', '--custodian', 'alice', ...t.passArgs('g2')]), 1, 'TRANSCRIPT_DAMAGED', [id]);
  });
});

test('a script whose step names a kind keyrite does not know is refused', () => {
  assert.equal(checkArtifactRule(undefined, 'x'), undefined);
  assert.deepEqual(checkArtifactRule({ creates: ['key-record'], checks: ['shard'] }, 'x'), { creates: ['key-record'], checks: ['shard'] });
  for (const bad of [{ creates: ['keys'] }, { creates: 'key-record' }, { replace: ['key-record'] }, null]) {
    assert.throws(() => checkArtifactRule(bad, 'ceremonies/x.json, step s'), (e: any) => e.code === 'DAMAGED_FILE' && /ceremonies\/x\.json, step s/.test(e.message), JSON.stringify(bad));
  }
});
