import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { tagged } from '../../../src/engine/ecdsa/hash.js';
import { otCheckSender, otReceive, otSenderKeys, otSenderStart } from '../../../src/engine/ecdsa/ot-base.js';
import { mulFinish, mulRespond, mulStart, type MulReply } from '../../../src/engine/ecdsa/multiply.js';
import type { OtExtReceiverSetup, OtExtSenderSetup } from '../../../src/engine/ecdsa/ot-extension.js';
import { Fn } from '../../../src/engine/ecdsa/suite.js';

// The two-party multiplication (DKLs23 F_RVOLE via DKLs19 Protocol 1): outputs add to the
// product for random inputs; a tampered reply fails Bob's check; a tampered OT message fails Alice's.

const rng = (n = 32): Uint8Array<ArrayBuffer> => Uint8Array.from(randomBytes(n));
const fail = (why: string) => new Error(why);

function setup(): { alice: OtExtSenderSetup; bob: OtExtReceiverSetup } {
  const pctx = tagged('t', ['bob']);
  const ctx = tagged('t', ['bob->alice']);
  const s = otSenderStart(pctx, rng);
  const delta = rng(16);
  const r = otReceive(ctx, otCheckSender(pctx, s.message, fail), delta, rng);
  const { keys0, keys1 } = otSenderKeys(ctx, s.secret, r.message, fail);
  return { alice: { delta, seeds: r.keys }, bob: { seeds0: keys0, seeds1: keys1 } };
}

const pair = setup();
const scalar = fc.bigInt({ min: 0n, max: Fn.ORDER - 1n });

test('multiplication: for random inputs the two outputs add to a_l·b (property)', () => {
  fc.assert(
    fc.property(scalar, scalar, fc.uint8Array({ minLength: 32, maxLength: 32 }), (a1, a2, nonce) => {
      const bob = mulStart(pair.bob, nonce, rng);
      const alice = mulRespond(pair.alice, nonce, bob.message, [a1, a2], rng, fail);
      const shares = mulFinish(bob.state, bob.message, alice.reply, fail);
      return Fn.add(alice.shares[0]!, shares[0]!) === Fn.mul(a1, bob.state.b) && Fn.add(alice.shares[1]!, shares[1]!) === Fn.mul(a2, bob.state.b);
    }),
    { numRuns: 6 },
  );
});

test('multiplication: a tampered τ, check digest, u or salt fails Bob\'s consistency check', () => {
  const nonce = rng(32);
  const bob = mulStart(pair.bob, nonce, rng);
  const { reply } = mulRespond(pair.alice, nonce, bob.message, [3n, 4n], rng, fail);
  const flipB64 = (b: string, at: number): string => {
    const raw = Buffer.from(b, 'base64');
    raw[at]! ^= 1;
    return raw.toString('base64');
  };
  const flipLast = (h: string): string => h.slice(0, -1) + (parseInt(h.slice(-1), 16) ^ 1).toString(16);
  const cases: MulReply[] = [
    { ...reply, tau: flipB64(reply.tau, 100) },
    { ...reply, r: flipLast(reply.r) },
    { ...reply, u: [reply.u[0]!, flipLast(reply.u[1]!)] },
    { ...reply, salt: flipLast(reply.salt) },
  ];
  for (const bad of cases) assert.throws(() => mulFinish(bob.state, bob.message, bad, fail), /consistency check|out of range/);
  assert.throws(() => mulFinish(bob.state, bob.message, { ...reply, gamma: [reply.gamma[0]] }, fail), /expected 2 scalars/);
});

test('multiplication: Alice refuses a tampered OT extension message', () => {
  const nonce = rng(32);
  const bob = mulStart(pair.bob, nonce, rng);
  const t = bob.message.t;
  const bad = { ...bob.message, t: (t[0] === '0' ? '1' : '0') + t.slice(1) };
  assert.throws(() => mulRespond(pair.alice, nonce, bad, [1n, 2n], rng, fail), /OT extension consistency check/);
  const salted = { ...bob.message, salt: (bob.message.salt[0] === '0' ? '1' : '0') + bob.message.salt.slice(1) };
  assert.throws(() => mulRespond(pair.alice, nonce, salted, [1n, 2n], rng, fail), /OT extension consistency check/, 'another salt is another PRG nonce');
});
