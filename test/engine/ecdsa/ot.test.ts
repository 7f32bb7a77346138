import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { shake256 } from '@noble/hashes/sha3.js';
import { fromBig, gfDot, gfMul, toBig } from '../../../src/engine/ecdsa/gf128.js';
import { tagged } from '../../../src/engine/ecdsa/hash.js';
import { bitAt, KAPPA, otCheckSender, otReceive, otSenderKeys, otSenderStart } from '../../../src/engine/ecdsa/ot-base.js';
import { cotReceive, cotSend, oteReceive, oteSend, pad, XI, type OtExtReceiverSetup, type OtExtSenderSetup } from '../../../src/engine/ecdsa/ot-extension.js';
import { Fn } from '../../../src/engine/ecdsa/suite.js';

// Base OT, GF(2^128) and OT extension (KOS15 with its check): receivers get exactly the chosen
// messages; a tampered extension message fails the sender's consistency check.

const rng = (n = 32): Uint8Array<ArrayBuffer> => Uint8Array.from(randomBytes(n));
const fail = (why: string) => new Error(why);

test('the SHAKE256 used (node:crypto) equals @noble/hashes shake256 for a tagged input', () => {
  const ours = tagged('probe', ['abc', Uint8Array.of(1, 2, 3), 7], 100);
  const enc = new TextEncoder();
  const len = (n: number) => Uint8Array.of(0, 0, 0, n);
  const tag = enc.encode('keyrite/ecdsa/probe');
  const input = Buffer.concat([len(tag.length), tag, len(3), enc.encode('abc'), len(3), Uint8Array.of(1, 2, 3), len(4), Uint8Array.of(0, 0, 0, 7)]);
  assert.deepEqual(ours, shake256(input, { dkLen: 100 }));
});

test('GF(2^128): multiplication is commutative, distributes, x·x^127 = x^128 reduces, gfDot = Σ gfMul', () => {
  const el = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
  fc.assert(fc.property(el, el, el, (a, b, c) => gfMul(a, b) === gfMul(b, a) && gfMul(a, b ^ c) === (gfMul(a, b) ^ gfMul(a, c))), { numRuns: 50 });
  assert.equal(gfMul(2n, 1n << 127n), 0x87n);
  const chi = rng(16 * 20);
  const vals = rng(16 * 20);
  let sum = 0n;
  for (let j = 0; j < 20; j++) sum ^= gfMul(toBig(chi, 16 * j), toBig(vals, 16 * j));
  assert.equal(gfDot(chi, vals, 20), sum);
  assert.deepEqual(toBig(fromBig(sum)), sum);
});

function baseOts(): { sender: OtExtSenderSetup; receiver: OtExtReceiverSetup } {
  // Extension receiver = base-OT sender; extension sender = base-OT receiver choosing Δ.
  const ctx = tagged('t', ['pair']);
  const pctx = tagged('t', ['party']);
  const s = otSenderStart(pctx, rng);
  const A = otCheckSender(pctx, s.message, fail);
  const delta = rng(16);
  const r = otReceive(ctx, A, delta, rng);
  const { keys0, keys1 } = otSenderKeys(ctx, s.secret, r.message, fail);
  for (let k = 0; k < KAPPA; k++) {
    assert.deepEqual(r.keys[k], bitAt(delta, k) ? keys1[k] : keys0[k], `base OT ${k} delivers the chosen key`);
    assert.notDeepEqual(r.keys[k], bitAt(delta, k) ? keys0[k] : keys1[k]);
  }
  return { sender: { delta, seeds: r.keys }, receiver: { seeds0: keys0, seeds1: keys1 } };
}

test('base OT: a wrong proof of knowledge or an identity point is refused', () => {
  const pctx = tagged('t', ['party']);
  const s = otSenderStart(pctx, rng);
  assert.throws(() => otCheckSender(tagged('t', ['other']), s.message, fail), /proof/);
  const zero = { ...s.message, A: '00'.repeat(33) };
  assert.throws(() => otCheckSender(pctx, zero, fail));
  const r = otReceive(tagged('t', ['pair']), s.secret.A, rng(16), rng);
  const bad = [...r.message];
  bad[5] = '02' + 'ff'.repeat(32);
  assert.throws(() => otSenderKeys(tagged('t', ['pair']), s.secret, bad, fail));
  assert.throws(() => otSenderKeys(tagged('t', ['pair']), s.secret, r.message.slice(1), fail), /expected 128/);
});

test('OT extension: receivers get exactly the chosen random messages (property)', () => {
  const setup = baseOts();
  fc.assert(
    fc.property(fc.uint8Array({ minLength: XI / 8, maxLength: XI / 8 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (choices, nonce) => {
      const { message, state } = oteReceive(setup.receiver, nonce, choices, rng);
      const q = oteSend(setup.sender, nonce, message, fail);
      for (const j of [0, 1, 7, 100, XI - 1]) {
        const got = pad(nonce, j, state.rows, 1)[0];
        const m0 = pad(nonce, j, q, 1)[0];
        const m1 = pad(nonce, j, q, 1, setup.sender.delta)[0];
        if (got !== (bitAt(choices, j) ? m1 : m0) || got === (bitAt(choices, j) ? m0 : m1)) return false;
      }
      return true;
    }),
    { numRuns: 8 },
  );
});

test('correlated OT: outputs add to x_j·α for every row', () => {
  const setup = baseOts();
  const nonce = rng(32);
  const choices = rng(XI / 8);
  const { message, state } = oteReceive(setup.receiver, nonce, choices, rng);
  const q = oteSend(setup.sender, nonce, message, fail);
  const alpha = [5n, Fn.ORDER - 1n];
  const { z, tau } = cotSend(nonce, q, setup.sender.delta, alpha);
  const zb = cotReceive(nonce, state, tau, 2);
  for (let j = 0; j < XI; j++) for (let k = 0; k < 2; k++) assert.equal(Fn.add(z[j]![k]!, zb[j]![k]!), bitAt(choices, j) ? alpha[k] : 0n);
});

test('OT extension: a flipped bit in u, x̃ or t̃, or another nonce, fails the KOS check', () => {
  const setup = baseOts();
  const nonce = rng(32);
  const { message } = oteReceive(setup.receiver, nonce, rng(XI / 8), rng);
  const flip = (h: string, at: number): string => h.slice(0, at) + ((parseInt(h[at]!, 16) ^ 1).toString(16)) + h.slice(at + 1);
  const flipB64 = (b: string, at: number): string => {
    const raw = Buffer.from(b, 'base64');
    raw[at]! ^= 1;
    return raw.toString('base64');
  };
  for (const tampered of [{ ...message, u: flipB64(message.u, 200) }, { ...message, x: flip(message.x, 3) }, { ...message, t: flip(message.t, 0) }]) {
    assert.throws(() => oteSend(setup.sender, nonce, tampered, fail), /consistency check/);
  }
  assert.throws(() => oteSend(setup.sender, rng(32), message, fail), /consistency check/);
  assert.throws(() => oteSend(setup.sender, nonce, { ...message, u: message.u.slice(4) }, fail), /base64/);
});
