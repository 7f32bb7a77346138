import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { bech32 } from '@scure/base';
import { newAgeIdentity } from '../../src/base/age.js';
import { getEngine } from '../../src/engine/index.js';
import type { Share } from '../../src/engine/types.js';
import { keyrite, ROOT, tempDir, type Run } from '../support/cli.js';
import { collectSecrets, plainPlaces, SecretSet, withDecoded, type Place } from '../support/secrets.js';
import { CUSTODIANS } from '../support/lifecycle.js';
import { makeWorkspace, ok, type TestWorkspace } from '../support/workspace.js';

// Secret hygiene (issue 13, item 5; docs/ARCHITECTURE.md §8): the demo, and a lifecycle of our own
// with its failure paths, leave no secret they made anywhere outside an age file — not in the
// workspace, the temp directory the commands were given, the verified-state memos, or any
// stdout or stderr. The secrets are every one the test can observe: passphrases (the demo's by a
// loader that records what its operator makes up: test/support/observe-demo.mjs), age keys and
// Ed25519 seeds of every identity, node identities, every shard's and node share's secret scalar
// and OT seeds, every guardian's Shamir share, and each key's group secret combined from t shards.
// Nonces are not among them: they are never persisted, and no process but the node's sees them.

const STATE_HOME = process.env.XDG_STATE_HOME!; // set by test/support/cli.ts for every run
const nodeIdentity = (p: string) => /\/nodes\/[^/]+\/identity\.json$/.test(p);

/** What every run printed, one level of base64 decoded, as places to scan. */
const outputs = (runs: { args: string[]; run: Run }[]): Place[] =>
  runs.flatMap(({ args, run }) => [...withDecoded(`stdout of ${args.join(' ')}`, run.stdout), ...withDecoded(`stderr of ${args.join(' ')}`, run.stderr)]);

/** Each key's group secret, from the first t collected shards of its latest epoch (the engine checks it against the group key). */
function addGroupSecrets(set: SecretSet): string[] {
  const byKey = new Map<string, Share[]>();
  for (const s of set.shares) {
    const k = `${s.keyId}/${s.epoch}`;
    if (!byKey.get(k)?.some((x) => x.party === s.party)) byKey.set(k, [...(byKey.get(k) ?? []), s]);
  }
  const done: string[] = [];
  for (const [k, shares] of byKey) {
    if (shares.length < shares[0]!.threshold) continue;
    const key = getEngine(shares[0]!.engine).combine(shares.slice(0, shares[0]!.threshold));
    set.bytes(`the group secret of ${k}`, Buffer.from(key.scalar, 'hex'));
    done.push(k);
  }
  return done;
}

describe('secret hygiene', () => {
  test('the scanner finds a planted secret in each encoding, at any offset, and nothing in a clean file', () => {
    const secret = Buffer.from('5be1c7e2a0f34b9d8e6a1c0f2d3b4a59687f0e1d2c3b4a5968778695a4b3c2d1', 'hex');
    const set = new SecretSet();
    set.bytes('the planted secret', secret);
    const dir = tempDir('keyrite-hygiene-self-');
    const around = (pad: number) => Buffer.concat([Buffer.from('pre!!'.slice(0, pad)), secret, Buffer.from('post')]);
    const forms: Record<string, string | Buffer> = {
      raw: Buffer.concat([Buffer.from([0, 1, 2]), secret, Buffer.from([3])]),
      hex: `{"x":"00${secret.toString('hex')}ff"}`,
      HEX: `KEY=${secret.toString('hex').toUpperCase()}`,
    };
    for (let pad = 0; pad < 3; pad++) {
      forms[`base64+${pad}`] = `{"payload":"${around(pad).toString('base64')}"}`;
      forms[`base64url+${pad}`] = `t=${around(pad).toString('base64url')}`;
    }
    for (let pad = 0; pad < 5; pad++) {
      forms[`bech32+${pad}`] = bech32.encode('kr', bech32.toWords(around(pad)), false);
      forms[`BECH32+${pad}`] = bech32.encode('kr', bech32.toWords(around(pad)), false).toUpperCase();
    }
    // A hex secret inside a DSSE-like base64 payload: hex on the inside, base64 on disk.
    forms['hex in base64'] = Buffer.from(JSON.stringify({ predicate: { leaked: secret.toString('hex') } })).toString('base64');
    for (const [name, text] of Object.entries(forms)) writeFileSync(join(dir, `${name}.txt`), text);
    writeFileSync(join(dir, 'clean.txt'), JSON.stringify({ publicKey: Buffer.alloc(32, 7).toString('hex'), note: 'nothing here' }));
    // The age header check: an age file is not scanned, however it looks inside.
    writeFileSync(join(dir, 'sealed.age'), Buffer.concat([Buffer.from('age-encryption.org/v1\n'), Buffer.from(secret.toString('hex'))]));
    const hits = set.find(plainPlaces([dir], () => false, dir));
    for (const name of Object.keys(forms)) assert.ok(hits.some((h) => h.startsWith(`the planted secret in ${name}.txt`)), `not found in its ${name} form: ${hits.join('; ')}`);
    assert.ok(!hits.some((h) => h.includes('clean.txt') || h.includes('sealed.age')), hits.join('; '));
    assert.deepEqual(set.find([{ where: 'a passphrase line', text: 'correct horse' }]), []);
  });

  test('the demo leaves no secret it made outside an age file, nor in its output', async () => {
    const base = tempDir('keyrite-hygiene-demo-');
    const ws = join(base, 'ws');
    const tmp = join(base, 'tmp');
    mkdirSync(tmp);
    const observed = join(tempDir('keyrite-hygiene-observed-'), 'passphrases.jsonl'); // outside `base`: never scanned
    const loader = pathToFileURL(join(ROOT, 'test', 'support', 'observe-demo.mjs')).href;
    const args = ['demo', '--json', '--workspace', ws];
    const run = await keyrite(args, { env: { TMPDIR: tmp, KEYRITE_OBSERVE_PASSPHRASES: observed, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${loader}` } });
    ok(run, 'demo');

    const passphrases = new Map<string, string[]>();
    const set = new SecretSet();
    for (const line of readFileSync(observed, 'utf8').trim().split('\n')) {
      const { name, passphrase } = JSON.parse(line) as { name: string; passphrase: string };
      passphrases.set(name, [...(passphrases.get(name) ?? []), passphrase]);
      set.text(`${name}'s demo passphrase`, passphrase);
    }
    assert.equal(passphrases.size, 1 + 3 + 15 + 1, 'a passphrase for the generator, 3 custodians, 15 guardians and the witness');
    const { opened, shut } = await collectSecrets(set, [ws], passphrases);
    // Shut, by design: the emergency key (its recipient lived in the demo's memory only) and the
    // guardians' releases (to the recovery's one-off key, removed when the recovery completed).
    assert.deepEqual(shut.map((p) => relative(ws, p).replace(/[0-9a-f]{16}/g, 'X')).sort(), ['holdings/aiko/aiko.release-X.json (embedded age text)', 'holdings/ana/ana.release-X.json (embedded age text)', 'holdings/ayla/ayla.release-X.json (embedded age text)', 'kX.key.age']);
    assert.ok(opened >= 13 + 15, `only ${opened} age files opened: every shard and every guardian share must`);
    const keys = addGroupSecrets(set);
    assert.equal(new Set(keys.map((k) => k.split('/')[0])).size, 3, `the group secret of each of the 3 keys: ${keys.join(', ')}`);
    assert.ok(set.size > 150, `${set.size} secrets collected`);

    const places = [...plainPlaces([base, STATE_HOME], nodeIdentity, base), ...outputs([{ args, run }])];
    assert.deepEqual(set.find(places), []);
  });

  test('a lifecycle with known passphrase files, and its failure paths, leave no secret outside an age file', async () => {
    const tw: TestWorkspace = await makeWorkspace({});
    const tmp = join(tw.base, 'tmp');
    mkdirSync(tmp);
    const kr = (args: string[]) => tw.kr(args, { env: { TMPDIR: tmp } });
    const all = tw.passArgs(tw.generator, tw.witness, ...CUSTODIANS);
    const keygen = async (engine: string) => ok(await kr(['keygen', '--json', '--engine', engine, '--custodians', CUSTODIANS.join(','), '--label', engine, '--export', '--delete-after-export', ...all])).keyId as string;
    const ed = await keygen('ed25519');
    const bip = await keygen('bip340');
    const sign = (key: string, message: string, pass = all, extra: string[] = []) => kr(['sign', '--json', '--key', key, '--signer', 'alice', '--signer', 'bob', '--message-hex', message, ...extra, ...pass]);
    ok(await sign(ed, Buffer.from('pay 1').toString('hex')));
    ok(await kr(['shard', 'check', '--json', '--key', ed, '--custodian', 'bob', ...tw.passArgs('bob')]));
    ok(await kr(['guardian', 'check', '--json', '--guardian', 'g1', '--custodian', 'alice', ...tw.passArgs('g1')]));

    const wrong = tw.extraPassphrase('alice', 'wrong');
    const shard = join(tw.holdings('alice'), `alice.${ed}.e1.shard.age`);
    const tampered = join(tw.freshDir('tampered'), 'alice.shard.age');
    copyFileSync(shard, tampered);
    const bytes = readFileSync(tampered);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1; // inside the last chunk's tag
    writeFileSync(tampered, bytes);
    const { recipient } = await newAgeIdentity();
    const failures: [string, string, () => Promise<Run>][] = [
      ['a sign by someone who holds no party', 'NOT_A_HOLDER', () => kr(['sign', '--json', '--key', ed, '--signer', 'alice', '--signer', tw.witness, '--message-hex', '00', ...all])],
      ['a wrong passphrase', 'WRONG_PASSPHRASE', () => sign(ed, '00'.repeat(8), [...tw.passArgs(tw.generator, tw.witness, 'bob'), '--passphrase-file', `alice=${wrong}`])],
      ['a tampered shard', 'DAMAGED_FILE', () => sign(ed, '00'.repeat(8), all, ['--shard', `alice=${tampered}`])],
      ['bob\'s shard as alice\'s', 'NOT_FOR_THIS_IDENTITY', () => sign(ed, '00'.repeat(8), all, ['--shard', `alice=${join(tw.holdings('bob'), `bob.${ed}.e1.shard.age`)}`])],
      ['a bip340 message that is not 32 bytes', 'BAD_MESSAGE', () => sign(bip, '00'.repeat(5))],
      ['a refresh without approvals', 'QUORUM_NOT_MET', () => kr(['refresh', '--json', '--key', ed, ...all])],
      ['a refresh with one approver of two', 'QUORUM_NOT_MET', () => kr(['refresh', '--json', '--key', ed, '--approvers', 'bob', ...all])],
      ['an emergency recovery with too few approvers', 'QUORUM_NOT_MET', () => kr(['recover', 'private-key', '--json', '--key', bip, '--to', recipient, '--custodians', 'alice,bob', '--approvers', 'carol', '--out', join(tw.freshDir('emergency'), 'k.age'), ...all])],
      ['a guardian check with another\'s passphrase', 'WRONG_PASSPHRASE', () => kr(['guardian', 'check', '--json', '--guardian', 'g1', '--custodian', 'alice', '--passphrase-file', `g1=${tw.pass.g2}`])],
      ['a shard check with the wrong passphrase', 'WRONG_PASSPHRASE', () => kr(['shard', 'check', '--json', '--key', ed, '--custodian', 'alice', '--passphrase-file', `alice=${wrong}`])],
    ];
    // Sequential: one ceremony at a time holds the workspace lock.
    for (const [what, code, run] of failures) {
      const r = await run();
      assert.equal(r.json?.error?.code, code, `${what}: ${r.stdout}`);
      assert.equal(r.code, code === 'BAD_MESSAGE' ? 2 : 1, `${what}: exit ${r.code}`);
    }

    const set = new SecretSet();
    const passphrases = new Map(Object.entries(tw.passphrases).map(([n, p]) => [n, [p]]));
    for (const [n, p] of Object.entries(tw.passphrases)) set.text(`${n}'s passphrase`, p);
    set.text('the wrong passphrase tried for alice', readFileSync(wrong, 'utf8').trim());
    const { shut } = await collectSecrets(set, [tw.root], passphrases);
    assert.deepEqual(shut, []);
    assert.equal(addGroupSecrets(set).length, 2, 'the group secrets of both keys');
    const inputs = tw.secretsDir + sep; // the passphrase files the test wrote: inputs, secret by design
    const places = [...plainPlaces([tw.base, STATE_HOME], (p) => p.startsWith(inputs) || nodeIdentity(p), tw.base), ...outputs(tw.runs)];
    assert.ok(tw.runs.length >= 20, `${tw.runs.length} commands ran`);
    assert.deepEqual(set.find(places), []);
  });
});
