import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { independentVerify } from '../../src/ceremony/independent-verify.js';
import { sha256Hex } from '../../src/base/canonical.js';
import { encryptTo } from '../../src/base/age.js';
import { sealShard } from '../../src/custody/shard.js';
import { assertNowhere, everyone, keygen, lifecycleWorkspace, nodeShareFiles, readShard, shardFile, steps } from '../support/lifecycle.js';
import { ok, readJsonFile, refused, watch, type TestWorkspace } from '../support/workspace.js';

// Just-in-time signing through the real CLI: ordinary verifiers accept the signatures, every
// node attests empty and holds nothing on disk, and each bad input is refused with nothing kept.

describe('sign', () => {
  let tw: TestWorkspace;
  let ed: any;
  let bip: any;
  before(async () => {
    tw = await lifecycleWorkspace();
    ed = await keygen(tw, 'ed25519');
    bip = await keygen(tw, 'bip340');
  });
  const sign = (args: string[], pass = everyone(tw)) => tw.kr(['sign', '--json', ...args, ...pass]);

  test('ed25519: a raw message file, signed by alice and carol, verifies with OpenSSL', async () => {
    const file = join(tw.base, 'message.bin');
    const message = Buffer.from('pay 1 SOL to the cold wallet\n');
    writeFileSync(file, message);
    const r = ok(await sign(['--key', ed.keyId, '--signer', 'carol', '--signer', 'alice', '--message-file', file]));
    assert.equal(r.keyId, ed.keyId);
    assert.equal(r.publicKey, ed.publicKey);
    assert.equal(r.message, message.toString('hex'));
    assert.ok(independentVerify('ed25519', r.publicKey, message, r.signature));
    assert.deepEqual(nodeShareFiles(tw), []);
    const s = steps(tw, r.ceremony).filter((x) => x.step !== 'checklist.confirm');
    assert.deepEqual(s.map((x) => `${x.step}:${x.actor}`), [
      'ceremony.start:generator', 'sign.intent:generator', 'sign.request:alice', 'sign.request:carol', 'sign.result:generator', 'node.attest:node-1', 'node.attest:node-3', 'ceremony.seal:generator',
    ]);
    const req = s[2]!.params;
    assert.deepEqual(req, { keyId: ed.keyId, epoch: 1, messageDigest: sha256Hex(message), signers: ['alice', 'carol'], sessionId: req.sessionId });
    assert.deepEqual(s[1]!.params, { ...req, nodes: ['node-1', 'node-3'], message: message.toString('hex') }, 'the intent names what is about to be signed, the message itself, and by which nodes');
    assert.deepEqual(s[4]!.params.nodes, ['node-1', 'node-3']);
    for (const a of s.filter((x) => x.step === 'node.attest')) assert.deepEqual(a.result.holds, []);
  });

  test('bip340: a 32-byte sighash, signed by bob and carol, verifies with noble schnorr', async () => {
    const message = Buffer.from(sha256Hex('a sighash'), 'hex');
    const r = ok(await sign(['--key', bip.keyId, '--signer', 'bob', '--signer', 'carol', '--message-hex', message.toString('hex')]));
    assert.ok(independentVerify('bip340', bip.publicKey, message, r.signature));
    assert.deepEqual(nodeShareFiles(tw), []);
    const secrets = await Promise.all(['alice', 'bob', 'carol'].map(async (c) => (await readShard(tw, c, shardFile(tw, c, bip.keyId))).share.secret));
    assertNowhere(tw, secrets);
  });

  describe('refusals: exit 1 (or 2 for usage), a clear error, and no custody state changed', () => {
    const refuse = async (args: string[], exit: number, code: string, mentions: string[] = [], pass?: string[]) => {
      const unchanged = watch(tw.root);
      refused(await sign(args, pass), exit, code, mentions);
      unchanged();
      assert.deepEqual(nodeShareFiles(tw), []);
    };
    const hello = ['--message-hex', Buffer.from('hello').toString('hex')];

    test('too few signers', () => refuse(['--key', ed.keyId, '--signer', 'alice', ...hello], 1, 'TOO_FEW_SIGNERS', ['alice']));

    test('a signer who holds no party of the key', () => refuse(['--key', ed.keyId, '--signer', 'alice', '--signer', tw.witness, ...hello], 1, 'NOT_A_HOLDER', [tw.witness]));

    test('a shard of another key', () =>
      refuse(['--key', ed.keyId, '--signer', 'alice', '--signer', 'bob', '--shard', `alice=${shardFile(tw, 'alice', bip.keyId)}`, ...hello], 1, 'WRONG_KEY', [bip.keyId]));

    test('a shard of another epoch', async () => {
      const real = await readShard(tw, 'alice', shardFile(tw, 'alice', ed.keyId));
      const old = { ...real, epoch: 2, share: { ...real.share, epoch: 2 } };
      const path = join(tw.base, 'alice-epoch2.shard.age');
      const alice = readJsonFile(tw.pubFile('alice'));
      writeFileSync(path, await sealShard(old, alice.recipient));
      await refuse(['--key', ed.keyId, '--signer', 'alice', '--signer', 'bob', '--shard', `alice=${path}`, ...hello], 1, 'WRONG_EPOCH', ['epoch 2']);
    });

    test('a file that is not a shard', async () => {
      const path = join(tw.base, 'not-a-shard.age');
      writeFileSync(path, await encryptTo([readJsonFile(tw.pubFile('alice')).recipient], Buffer.from('{"v":1}')));
      await refuse(['--key', ed.keyId, '--signer', 'alice', '--signer', 'bob', '--shard', `alice=${path}`, ...hello], 1, 'DAMAGED_FILE', [path]);
    });

    test('a wrong passphrase', () => {
      const wrong = tw.extraPassphrase('alice', 'wrong');
      const pass = [...tw.passArgs(tw.generator, 'bob'), '--passphrase-file', `alice=${wrong}`];
      return refuse(['--key', ed.keyId, '--signer', 'alice', '--signer', 'bob', ...hello], 1, 'WRONG_PASSPHRASE', ['alice'], pass);
    });

    test('a bip340 message that is not 32 bytes', () => refuse(['--key', bip.keyId, '--signer', 'alice', '--signer', 'bob', ...hello], 2, 'BAD_MESSAGE', ['32']));

    test('no message', () => refuse(['--key', ed.keyId, '--signer', 'alice', '--signer', 'bob'], 2, 'MISSING_INPUT', ['--message']));
  });
});
