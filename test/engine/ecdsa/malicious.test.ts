import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import {
  banNoticeOf, dkgParty, getEngine, openDirect, ProtocolParty, sealDirect, sessionIdOf, signEnvelope, signParty,
  type Envelope, type MultiRounds, type RoundOut, type Share,
} from '../../../src/engine/index.js';
import { runParties, type Transport } from '../../support/engine-run.js';
import { dkgSession, expectBlame, identities, keySession, names, runDkg, type Ids } from '../../support/engine.js';
import { sha256 } from './support.js';

// One malicious co-signer per test, played by a transport that rewrites what node-2 sends and
// signs it again with node-2's own keys (so the message is authenticated, only wrong). Each run
// must abort for every party, blame node-2 with the right code, and leave no signature.

const parties = names(3);
const ids: Ids = await identities(parties);
const shares = (await runDkg('ecdsa', parties, 2, ids)) as Record<string, Share>;
const digest = sha256(new TextEncoder().encode('malicious co-signer'));
let run = 0;

function signers(set: string[], ceremonyId = `c-mal-${run++}`, banned?: string[]): ProtocolParty<string>[] {
  const session = { ...keySession(shares[set[0]!]!, set, ids), ceremonyId };
  return set.map((p) => signParty({ session, keys: ids.keys[p]!, roster: ids.roster }, { share: shares[p]!, message: digest, banned }));
}

/** node-2 runs the engine honestly except that `edit` rewrites its round-`round` output before it is signed. */
function liar(set: string[], round: number, edit: (out: RoundOut) => RoundOut): ProtocolParty<string>[] {
  const session = { ...keySession(shares[set[0]!]!, set, ids), ceremonyId: `c-liar-${run++}` };
  return set.map((p) => {
    if (p !== 'node-2') return signParty({ session, keys: ids.keys[p]!, roster: ids.roster }, { share: shares[p]!, message: digest });
    const honest = getEngine('ecdsa').sign({ share: shares[p]!, signers: set, message: digest, sessionId: sessionIdOf(session) }) as MultiRounds<string>;
    const rounds: MultiRounds<string> = { ...honest, send: (k, got) => { const out = honest.send(k, got)!; return k === round ? edit(structuredClone(out)) : out; } };
    return new ProtocolParty(session, ids.keys[p]!, ids.roster, rounds);
  });
}

async function attack(transport: Transport, code: string, set = ['node-1', 'node-2'], ps = signers(set)): Promise<unknown> {
  let caught: unknown;
  await expectBlame(() => runParties(ps, transport).catch((e) => { caught = e; throw e; }), code, 'node-2');
  for (const p of ps) {
    assert.equal(p.expecting, 'aborted', `${p.name} aborted`);
    assert.throws(() => p.result(), /not done/);
  }
  return caught;
}

const resign = (env: Envelope, change: Partial<Envelope>): Envelope => {
  const { sig: _sig, ...unsigned } = { ...env, ...change };
  return signEnvelope(ids.keys[env.from]!.signingKey, unsigned);
};

/** node-2's private payload to `to`, re-sealed by node-2 after `edit` changed its body. */
async function editSealed(env: Envelope, edit: (body: Record<string, unknown>) => Record<string, unknown>): Promise<Envelope> {
  const statement = await openDirect(ids.keys[env.to]!.ageIdentity, env, ids.roster[env.from]!.signingPublicKey);
  const { body, sig: _s, ...header } = statement;
  const payload = await sealDirect(ids.keys[env.from]!.signingKey, header, edit(structuredClone(body) as Record<string, unknown>), ids.roster[env.to]!.ageRecipient);
  return resign(env, { payload });
}

const fromNode2 = (round: string, direct: boolean, edit: (body: Record<string, unknown>) => Record<string, unknown>): Transport => async (env) =>
  env.from === 'node-2' && env.round === round && (env.to !== '*') === direct ? [direct ? await editSealed(env, edit) : resign(env, { payload: edit(structuredClone(env.payload) as Record<string, unknown>) })] : [env];

const flipHex = (h: string, at = 0): string => h.slice(0, at) + (parseInt(h[at]!, 16) ^ 1).toString(16) + h.slice(at + 1);
const flipB64 = (b: string, at = 0): string => {
  const raw = Buffer.from(b, 'base64');
  raw[at]! ^= 1;
  return raw.toString('base64');
};
const otherPoint = (h: string): string => secp256k1.Point.fromHex(h).add(secp256k1.Point.BASE).toHex(true);
type Mul = { u: string; x: string; t: string; tau: string; r: string; gamma: string[] };
const mulOf = (b: Record<string, unknown>): Mul => b.mul as Mul;

test('round 1: a wrong OT-extension message fails the KOS check; node-2 is blamed and to be banned', async () => {
  const err = await attack(fromNode2('sign.1', true, (b) => ({ ...b, mul: { ...mulOf(b), u: flipB64(mulOf(b).u, 300) } })), 'PROTOCOL_OT_CHECK');
  assert.deepEqual(banNoticeOf(err), { party: 'node-2', check: 'ot-extension', code: 'PROTOCOL_OT_CHECK' });
});

test('round 1: a tampered correlation check value (x̃ or t̃) fails the KOS check', async () => {
  await attack(fromNode2('sign.1', true, (b) => ({ ...b, mul: { ...mulOf(b), x: flipHex(mulOf(b).x) } })), 'PROTOCOL_OT_CHECK');
  await attack(fromNode2('sign.1', true, (b) => ({ ...b, mul: { ...mulOf(b), t: flipHex(mulOf(b).t, 31) } })), 'PROTOCOL_OT_CHECK');
});

test('round 1: a malformed OT message (short u) is refused as malformed, naming node-2, with no ban', async () => {
  const err = await attack(fromNode2('sign.1', true, (b) => ({ ...b, mul: { ...mulOf(b), u: mulOf(b).u.slice(4) } })), 'PROTOCOL_MALFORMED');
  assert.equal(banNoticeOf(err), null);
  await attack(fromNode2('sign.2', true, (b) => ({ ...b, mul: { ...mulOf(b), tau: mulOf(b).tau.slice(8) } })), 'PROTOCOL_MALFORMED');
});

const honestly: Transport = (env) => [env];
const broadcastEdit = (f: (b: Record<string, string>) => Record<string, string>) => (out: RoundOut): RoundOut => ({ ...out, broadcast: f(out.broadcast as Record<string, string>) });

test('round 1 → 3: a commitment that node-2 cannot open (sent alike to all, so the echo agrees) is blamed at decommitment', async () => {
  const set = ['node-1', 'node-2', 'node-3'];
  await attack(honestly, 'PROTOCOL_INVALID_DECOMMITMENT', set, liar(set, 1, broadcastEdit((b) => ({ ...b, commitment: flipHex(b.commitment!) }))));
});

test('round 1: a different digest names its signer', async () => {
  const set = ['node-1', 'node-2'];
  await attack(honestly, 'PROTOCOL_MESSAGE_MISMATCH', set, liar(set, 1, broadcastEdit((b) => ({ ...b, digest: flipHex(b.digest!) }))));
});

test('round 1: equivocation (another commitment to one co-signer) is caught by the echo', async () => {
  const transport: Transport = (env, to) => (env.from === 'node-2' && env.round === 'sign.1' && env.to === '*' && to === 'node-3'
    ? [resign(env, { payload: { ...(env.payload as object), commitment: '00'.repeat(32) } })] : [env]);
  await attack(transport, 'PROTOCOL_ECHO_MISMATCH', parties);
});

test('round 2: a wrong decommitment (another R) is refused', async () => {
  await attack(fromNode2('sign.2', true, (b) => ({ ...b, R: otherPoint(b.R as string) })), 'PROTOCOL_INVALID_DECOMMITMENT');
});

test('round 2: the identity point or a non-canonical scalar is refused as malformed', async () => {
  await attack(fromNode2('sign.2', true, (b) => ({ ...b, gammaU: '00'.repeat(33) })), 'PROTOCOL_MALFORMED');
  await attack(fromNode2('sign.2', true, (b) => ({ ...b, psi: 'ff'.repeat(32) })), 'PROTOCOL_MALFORMED');
});

test('round 2: a tampered multiplication reply (τ, check digest) fails the multiplication check; node-2 to be banned', async () => {
  const err = await attack(fromNode2('sign.2', true, (b) => ({ ...b, mul: { ...mulOf(b), tau: flipB64(mulOf(b).tau, 1001) } })), 'PROTOCOL_MULTIPLICATION_CHECK');
  assert.deepEqual(banNoticeOf(err), { party: 'node-2', check: 'multiplication', code: 'PROTOCOL_MULTIPLICATION_CHECK' });
  await attack(fromNode2('sign.2', true, (b) => ({ ...b, mul: { ...mulOf(b), r: flipHex(mulOf(b).r, 5) } })), 'PROTOCOL_MULTIPLICATION_CHECK');
});

test('round 2: an inconsistent multiplication output (Γ or γ that do not match R_j, X_j) is caught by the DKLs23 checks', async () => {
  const err = await attack(fromNode2('sign.2', true, (b) => ({ ...b, gammaU: otherPoint(b.gammaU as string) })), 'PROTOCOL_INCONSISTENT_MULTIPLICATION');
  assert.equal(banNoticeOf(err)?.check, 'consistency');
  await attack(fromNode2('sign.2', true, (b) => ({ ...b, gammaV: otherPoint(b.gammaV as string) })), 'PROTOCOL_INCONSISTENT_MULTIPLICATION');
  // γ is Alice's real input minus her pad: a γ for other inputs than (r_j, sk_j) breaks the Γ check.
  const bump = (s: string): string => (BigInt('0x' + s) + 1n).toString(16).padStart(64, '0');
  await attack(fromNode2('sign.2', true, (b) => ({ ...b, mul: { ...mulOf(b), gamma: [mulOf(b).gamma[0]!, bump(mulOf(b).gamma[1]!)] } })), 'PROTOCOL_INCONSISTENT_MULTIPLICATION');
});

test('round 2 → 3: a wrong ψ, or a wrong round-3 share, gives a signature that does not verify, and nothing is returned', async () => {
  const bump = (s: string): string => (BigInt('0x' + s) + 1n).toString(16).padStart(64, '0');
  await attack(fromNode2('sign.2', true, (b) => ({ ...b, psi: bump(b.psi as string) })), 'PROTOCOL_INVALID_SIGNATURE');
  await attack(fromNode2('sign.3', false, (b) => ({ ...b, w: bump(b.w as string) })), 'PROTOCOL_INVALID_SIGNATURE');
});

test('a replayed message is refused', async () => {
  const transport: Transport = (env) => (env.from === 'node-2' && env.round === 'sign.1' && env.to === '*' ? [env, env] : [env]);
  await attack(transport, 'PROTOCOL_REPLAY');
});

test('cross-session: a message of an earlier run is refused, and node-2 replaying its own old OT message fails the KOS check', async () => {
  const captured: Envelope[] = [];
  const record: Transport = (env) => {
    if (env.from === 'node-2') captured.push(env);
    return [env];
  };
  await runParties(signers(['node-1', 'node-2']), record);
  const old = (round: string, to: string) => captured.find((e) => e.round === round && e.to === to)!;
  // The old envelope as it was: another session id.
  await attack((env) => (env.from === 'node-2' && env.round === 'sign.2' ? [old('sign.2', 'node-1')] : [env]), 'PROTOCOL_WRONG_SESSION');
  // The old sealed payload in a fresh envelope: its inner statement names the old session.
  await attack((env) => (env.from === 'node-2' && env.round === 'sign.1' && env.to !== '*' ? [resign(env, { payload: old('sign.1', 'node-1').payload })] : [env]), 'PROTOCOL_WRONG_SESSION');
  // The old OT-extension body, sealed anew for this session: the session-bound PRG nonce differs.
  const oldBody = (await openDirect(ids.keys['node-1']!.ageIdentity, old('sign.1', 'node-1'), ids.roster['node-2']!.signingPublicKey)).body as Record<string, unknown>;
  await attack(fromNode2('sign.1', true, () => oldBody), 'PROTOCOL_OT_CHECK');
});

test('a banned party is refused before any work, and the others still sign', async () => {
  assert.throws(() => signers(['node-1', 'node-2'], 'c-banned', ['node-2']), (e: { code?: string; party?: string }) => e.code === 'SIGNER_BANNED' && e.party === 'node-2');
  const out = await runParties(signers(['node-1', 'node-3'], 'c-after-ban', ['node-2']));
  assert.ok(getEngine('ecdsa').verify(shares['node-1']!.groupPublicKey, digest, out['node-1']!));
});

test('DKG: a wrong base-OT proof of knowledge or a bad base-OT point is blamed on its sender', async () => {
  const dkgIds = await identities(parties);
  const session = dkgSession('ecdsa', parties, 2, dkgIds, 'c-dkg-liar');
  // node-2 deals honestly but publishes a base-OT key with a proof that does not verify.
  const ps = parties.map((p) => {
    if (p !== 'node-2') return dkgParty({ session, keys: dkgIds.keys[p]!, roster: dkgIds.roster });
    const honest = getEngine('ecdsa').dkg({ me: p, parties, threshold: 2, sessionId: sessionIdOf(session) }) as MultiRounds<Share>;
    const rounds: MultiRounds<Share> = { ...honest, send: (k, got) => {
      const out = honest.send(k, got)!;
      if (k !== 1) return out;
      const r = out.broadcast as { vss: unknown; ot: { A: string; proof: { K: string; z: string } } };
      return { broadcast: { ...r, ot: { ...r.ot, proof: { ...r.ot.proof, z: '01'.repeat(32) } } } };
    } };
    return new ProtocolParty(session, dkgIds.keys[p]!, dkgIds.roster, rounds);
  });
  await expectBlame(() => runParties(ps), 'PROTOCOL_INVALID_PROOF', 'node-2');
  const sign = (env: Envelope, change: Partial<Envelope>): Envelope => {
    const { sig: _s, ...u } = { ...env, ...change };
    return signEnvelope(dkgIds.keys[env.from]!.signingKey, u);
  };
  const pointAttack: Transport = async (env) => {
    // node-2 is `lo` towards node-3, so it sends node-3 its base-OT choices in round 2.
    if (env.from !== 'node-2' || env.round !== 'dkg.2' || env.to !== 'node-3') return [env];
    const statement = await openDirect(dkgIds.keys[env.to]!.ageIdentity, env, dkgIds.roster['node-2']!.signingPublicKey);
    const { body, sig: _s, ...header } = statement;
    const b = body as { vss: unknown; ot: string[] };
    const payload = await sealDirect(dkgIds.keys['node-2']!.signingKey, header, { ...b, ot: ['00'.repeat(33), ...b.ot.slice(1)] }, dkgIds.roster[env.to]!.ageRecipient);
    return [sign(env, { payload })];
  };
  await expectBlame(() => runDkg('ecdsa', parties, 2, dkgIds, pointAttack), 'PROTOCOL_MALFORMED', 'node-2');
  // node-2 is `hi` towards node-1: its round-3 bootstrap extension must pass node-1's KOS check.
  const bootAttack: Transport = async (env) => {
    if (env.from !== 'node-2' || env.round !== 'dkg.3' || env.to !== 'node-1') return [env];
    const statement = await openDirect(dkgIds.keys[env.to]!.ageIdentity, env, dkgIds.roster['node-2']!.signingPublicKey);
    const { body, sig: _s, ...header } = statement;
    const b = body as { boot: { u: string; x: string; t: string } };
    const t = b.boot.t;
    const payload = await sealDirect(dkgIds.keys['node-2']!.signingKey, header, { boot: { ...b.boot, t: (t[0] === '0' ? '1' : '0') + t.slice(1) } }, dkgIds.roster[env.to]!.ageRecipient);
    return [sign(env, { payload })];
  };
  await expectBlame(() => runDkg('ecdsa', parties, 2, dkgIds, bootAttack), 'PROTOCOL_OT_CHECK', 'node-2');
});

test('an aborted run wipes the honest signer\'s secret round state (nonce, mask, key share, OT state)', async () => {
  const set = ['node-1', 'node-2'];
  const session = { ...keySession(shares['node-1']!, set, ids), ceremonyId: `c-wipe-${run++}` };
  const rounds = (p: string) => getEngine('ecdsa').sign({ share: shares[p]!, signers: set, message: digest, sessionId: sessionIdOf(session) }) as MultiRounds<string>;
  const one = rounds('node-1');
  let wiped = 0;
  const spied: MultiRounds<string> = { ...one, wipe: () => { wiped++; one.wipe(); } };
  // node-2 sends node-1 a Γ^u that does not match its multiplication.
  const two = rounds('node-2');
  const lying: MultiRounds<string> = { ...two, send: (k, got) => {
    const out = two.send(k, got)!;
    if (k !== 2) return out;
    const body = (out.direct as Record<string, Record<string, unknown>>)['node-1']!;
    return { direct: { 'node-1': { ...body, gammaU: otherPoint(body.gammaU as string) } } };
  } };
  const node1 = new ProtocolParty(session, ids.keys['node-1']!, ids.roster, spied);
  const node2 = new ProtocolParty(session, ids.keys['node-2']!, ids.roster, lying);
  await expectBlame(() => runParties([node1, node2]), 'PROTOCOL_INCONSISTENT_MULTIPLICATION', 'node-2');
  assert.equal(wiped, 1, 'wipe ran once, on abort');
  assert.equal(node1.expecting, 'aborted');
  assert.throws(() => node1.result(), /not done/);
});
