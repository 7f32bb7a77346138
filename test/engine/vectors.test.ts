import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1, secp256k1_FROST } from '@noble/curves/secp256k1.js';
import { fromHex, hex } from '../../src/base/canonical.js';
import { getEngine, keyIdOf, type Engine, type Share } from '../../src/engine/index.js';
import { frostEngine } from '../../src/engine/frost.js';
import type { GroupPoint, PointOps, Suite } from '../../src/engine/suite.js';

import { SHARED } from '../support/cli.js';

// RFC 9591 Appendix E vectors (cfrg/draft-irtf-cfrg-frost@127452b, poc/*.json) and BIP-340
// vectors (bitcoin/bips@7fe0b03 bip-0340/test-vectors.csv), see ../shared/vectors/SOURCES.md.
// They are read in place from the shared folder beside the repository; a clone with nothing
// beside it skips these tests and says which folder it lacks. A folder that is there but lacks
// a vector file fails.
const VECTORS = join(SHARED, 'vectors');
const skip = existsSync(VECTORS) ? false : `the engine vectors are not here: ${VECTORS} (../shared/vectors/ beside the repository) is absent`;
const readVector = (path: string): string => readFileSync(join(VECTORS, path), 'utf8');

type FrostVector = {
  inputs: {
    participant_list: number[]; group_public_key: string; message: string;
    participant_shares: { identifier: number; participant_share: string }[];
  };
  round_one_outputs: { outputs: { identifier: number; hiding_nonce_randomness: string; binding_nonce_randomness: string; hiding_nonce_commitment: string; binding_nonce_commitment: string }[] };
  round_two_outputs: { outputs: { identifier: number; sig_share: string }[] };
  final_output: { sig: string };
};

// Builds the vector's shares as engine shares (parties p1..p3 have identifiers 1..3), and runs
// the engine's signing rounds with the vector's nonce randomness.
function reproduce(engine: Engine, v: FrostVector, groupKeyHex: string, verifyingShare: (secretHex: string) => string) {
  const parties = v.inputs.participant_shares.map((s) => `p${s.identifier}`);
  const verifyingShares = Object.fromEntries(v.inputs.participant_shares.map((s) => [`p${s.identifier}`, verifyingShare(s.participant_share)]));
  const share = (id: number): Share =>
    engine.parseShare(
      {
        v: 1, engine: engine.id, keyId: keyIdOf(engine.id, groupKeyHex), epoch: 1, party: `p${id}`,
        secret: v.inputs.participant_shares.find((s) => s.identifier === id)!.participant_share,
        groupPublicKey: groupKeyHex, verifyingShares, threshold: 2, parties,
      },
      `vector share ${id}`,
    );
  const signers = v.inputs.participant_list.map((i) => `p${i}`);
  const message = fromHex(v.inputs.message, 'message');
  const rounds = v.inputs.participant_list.map((id) => {
    const r1 = v.round_one_outputs.outputs.find((o) => o.identifier === id)!;
    const randomness = [r1.hiding_nonce_randomness, r1.binding_nonce_randomness].map((h) => fromHex(h, 'rand'));
    const rng = () => Uint8Array.from(randomness.shift()!);
    return engine.sign({ share: share(id), signers, message, rng });
  });
  const round1 = Object.fromEntries(rounds.map((r) => [r.me, r.round1() as { message: string }]));
  for (const out of v.round_one_outputs.outputs) {
    assert.deepEqual(round1[`p${out.identifier}`], { hiding: out.hiding_nonce_commitment, binding: out.binding_nonce_commitment, message: round1[`p${out.identifier}`]!.message });
  }
  const round2 = Object.fromEntries(rounds.map((r) => [r.me, (r.round2(round1) as { broadcast: unknown }).broadcast]));
  for (const out of v.round_two_outputs.outputs) assert.deepEqual(round2[`p${out.identifier}`], { share: out.sig_share });
  for (const r of rounds) assert.equal(r.finish(round2), v.final_output.sig);
  return { rounds, round2 };
}

test('RFC 9591 FROST(Ed25519, SHA-512): group key, signature shares and signature through the ed25519 engine', { skip }, () => {
  const v = JSON.parse(readVector('rfc9591-cfrg/frost-ed25519-sha512.json')) as FrostVector;
  const Fn = ed25519.Point.Fn;
  reproduce(getEngine('ed25519'), v, v.inputs.group_public_key, (s) => hex(ed25519.Point.BASE.multiply(Fn.fromBytes(fromHex(s, 's'))).toBytes()));
  assert.ok(getEngine('ed25519').verify(v.inputs.group_public_key, fromHex(v.inputs.message, 'm'), v.final_output.sig));
});

// The bip340 engine is FROST(secp256k1, SHA-256-TR) with BIP-340 challenges and x-only keys, so it
// cannot produce RFC 9591's plain FROST(secp256k1, SHA-256) vector. The same engine code
// (frost.ts) runs here over noble's secp256k1_FROST suite instead.
test('RFC 9591 FROST(secp256k1, SHA-256) through the shared engine code with noble secp256k1_FROST', { skip }, () => {
  const v = JSON.parse(readVector('rfc9591-cfrg/frost-secp256k1-sha256.json')) as FrostVector;
  const suite: Suite = {
    id: 'secp256k1-rfc9591', frost: secp256k1_FROST, Point: secp256k1.Point as unknown as PointOps, Fn: secp256k1.Point.Fn, pointBytes: 33,
    encodeGroupKey: (p) => p.toBytes(), decodeGroupKey: (b) => secp256k1.Point.fromBytes(b) as unknown as GroupPoint,
    evenY: false, recoveredKind: 'secp256k1 scalar',
  };
  const Fn = secp256k1.Point.Fn;
  reproduce(frostEngine(suite), v, v.inputs.group_public_key, (s) => hex(secp256k1.Point.BASE.multiply(Fn.fromBytes(fromHex(s, 's'))).toBytes()));
});

test('RFC 9591 vector: a swapped signature share is refused and its signer named', { skip }, () => {
  const v = JSON.parse(readVector('rfc9591-cfrg/frost-ed25519-sha512.json')) as FrostVector;
  const Fn = ed25519.Point.Fn;
  const { rounds, round2 } = reproduce(getEngine('ed25519'), v, v.inputs.group_public_key, (s) => hex(ed25519.Point.BASE.multiply(Fn.fromBytes(fromHex(s, 's'))).toBytes()));
  const altered = { ...round2, p3: round2.p1 };
  assert.throws(() => rounds[0]!.finish(altered), (e: { code?: string; party?: string }) => e.code === 'PROTOCOL_INVALID_SIGNATURE_SHARE' && e.party === 'p3');
});

test('BIP-340 test vectors through the bip340 engine verify: valid rows verify, invalid rows fail', { skip }, () => {
  const rows = readVector('bip340/test-vectors.csv').trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
  assert.equal(rows.length, 19);
  const engine = getEngine('bip340');
  let valid = 0;
  for (const [index, , pk, , message, sig, result] of rows) {
    const expected = result === 'TRUE';
    if (expected) valid++;
    assert.equal(engine.verify(pk!.toLowerCase(), fromHex(message!.toLowerCase(), 'm'), sig!.toLowerCase()), expected, `BIP-340 vector ${index}`);
  }
  assert.ok(valid > 0 && valid < rows.length);
});
