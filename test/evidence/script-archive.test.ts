import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { digestOf } from '../../src/base/canonical.js';
import { ARCHIVE_DIR, SCRIPTS_DIR } from '../../src/evidence/script.js';
import { keyrite, ROOT, snapshot, tempDir } from '../support/cli.js';
import { CUSTODIANS, everyone, keygen, lifecycleWorkspace, steps } from '../support/lifecycle.js';
import { FAST, ok, refused } from '../support/workspace.js';

// Transcripts name their ceremony script by digest, and every version ever shipped stays in
// ceremonies/archive/: editing a script must never break the evidence written under the old one.

const json = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

describe('ceremony script archive', () => {
  test('every current script is archived under its digest, and every archived file is named by its own digest', () => {
    const archived = new Set(readdirSync(ARCHIVE_DIR));
    for (const f of readdirSync(SCRIPTS_DIR).filter((n) => n.endsWith('.json'))) {
      assert.ok(archived.has(`${digestOf(json(join(SCRIPTS_DIR, f)))}.json`), `${f} is not archived: run npm run archive-scripts`);
    }
    for (const f of archived) assert.equal(`${digestOf(json(join(ARCHIVE_DIR, f)))}.json`, f);
  });

  test('an edited script: old transcripts still verify, the new ceremony names the new digest', async () => {
    const tw = await lifecycleWorkspace();
    await keygen(tw, 'ed25519', []);
    const oldDigest = digestOf(json(join(SCRIPTS_DIR, 'keygen.json')));

    // A copy of the built package whose keygen script gains a checklist item.
    const pkg = tempDir('keyrite-pkg-');
    for (const part of ['bin', 'dist', 'ceremonies', 'package.json']) cpSync(join(ROOT, part), join(pkg, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const edited = json(join(pkg, 'ceremonies', 'keygen.json')) as { steps: Record<string, { checklist?: string[] }> };
    const item = 'The witness checked the list of custodians against the approved ceremony plan.';
    edited.steps['ceremony.start']!.checklist = [...(edited.steps['ceremony.start']!.checklist ?? []), item];
    writeFileSync(join(pkg, 'ceremonies', 'keygen.json'), JSON.stringify(edited, null, 2) + '\n');
    const bin = join(pkg, 'bin', 'keyrite');
    const args = ['--workspace', tw.root, FAST, '--yes', 'keygen', '--json', '--engine', 'bip340', '--custodians', CUSTODIANS.join(','), '--label', 'edited', ...everyone(tw)];

    // Not yet archived: the build refuses to write evidence no verifier could resolve.
    const before = snapshot(tw.root);
    refused(await keyrite(args, { bin }), 1, 'UNKNOWN_SCRIPT', ['keygen', 'archive']);
    assert.deepEqual(snapshot(tw.root), before);

    const newDigest = digestOf(edited);
    mkdirSync(join(pkg, 'ceremonies', 'archive'), { recursive: true });
    writeFileSync(join(pkg, 'ceremonies', 'archive', `${newDigest}.json`), readFileSync(join(pkg, 'ceremonies', 'keygen.json')));
    const r = ok(await keyrite(args, { bin }), 'keygen with the edited script');
    const recorded = steps(tw, r.ceremony);
    assert.notEqual(newDigest, oldDigest);
    assert.ok(recorded.some((s) => s.step === 'checklist.confirm' && s.params.text === item), 'the new checklist item is recorded with its text');
    const line = JSON.parse(readFileSync(join(tw.root, 'transcripts', `${r.ceremony}.jsonl`), 'utf8').split('\n')[0]!);
    assert.equal(JSON.parse(Buffer.from(line.payload, 'base64').toString()).predicate.script, newDigest);

    // The edited build verifies the whole history, old ceremonies included.
    const verified = ok(await keyrite(['--workspace', tw.root, 'audit', 'verify', '--json'], { bin }), 'audit verify with the edited build');
    assert.ok(verified.entries > 0);
    // This checkout's build never shipped the edited version, so it names exactly that ceremony.
    const stale = await keyrite(['--workspace', tw.root, 'audit', 'verify', '--json']);
    assert.equal(stale.code, 1);
    assert.ok(stale.json.failures.length > 0);
    for (const f of stale.json.failures) {
      assert.equal(f.file, join('transcripts', `${r.ceremony}.jsonl`));
      assert.match(f.reason, /unknown ceremony script/);
    }
  });

  test('an archived file that is not the version it is named by is refused', async () => {
    const pkg = tempDir('keyrite-pkg-');
    for (const part of ['bin', 'dist', 'ceremonies', 'package.json']) cpSync(join(ROOT, part), join(pkg, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const digest = digestOf(json(join(pkg, 'ceremonies', 'sign.json')));
    const file = join(pkg, 'ceremonies', 'archive', `${digest}.json`);
    const doc = json(file) as { seal: string[] };
    writeFileSync(file, JSON.stringify({ ...doc, seal: [] , title: 'loosened' }));
    const tw = await lifecycleWorkspace();
    const r = await keyrite(['--workspace', tw.root, 'audit', 'verify', '--json'], { bin: join(pkg, 'bin', 'keyrite') });
    refused(r, 1, 'DAMAGED_FILE', [digest]);
  });
});
