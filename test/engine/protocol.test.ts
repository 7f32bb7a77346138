import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hex } from '../../src/base/canonical.js';
import { getEngine, openDirect, sealDirect, signEnvelope, type Envelope } from '../../src/engine/index.js';
import type { Transport } from '../support/engine-run.js';
import { expectBlame, identities, independentVerify, msg32, names, runDkg, runSign, type Ids } from '../support/engine.js';

const ENGINES = ['ed25519', 'bip340'] as const;

function subsets<T>(xs: T[], k: number): T[][] {
  if (k === 0) return [[]];
  return xs.flatMap((x, i) => subsets(xs.slice(i + 1), k - 1).map((rest) => [x, ...rest]));
}

// The message each engine signs: bip340 takes a 32-byte digest (docs/ARCHITECTURE.md §7).
const messageFor = (engine: string, tag: string): Uint8Array => (engine === 'bip340' ? msg32(tag) : new TextEncoder().encode(`keyrite ${tag}`));

for (const engine of ENGINES) {
  for (const [t, n, allSubsets] of [[2, 3, true], [3, 5, true], [5, 7, false]] as const) {
    test(`${engine}: DKG ${t}-of-${n} and signing by ${allSubsets ? 'every' : 'several'} ${t}+ signer subset(s)`, async () => {
      const parties = names(n);
      const ids = await identities(parties);
      const shares = await runDkg(engine, parties, t, ids);
      const pub = Object.values(shares)[0]!;
      for (const s of Object.values(shares)) {
        assert.equal(s.groupPublicKey, pub.groupPublicKey);
        assert.equal(s.epoch, 1);
      }
      const sets = allSubsets ? [...subsets(parties, t), parties] : [parties.slice(0, t), parties.slice(n - t), [parties[0]!, ...parties.slice(n - t + 1)], parties];
      for (const set of sets) {
        const message = messageFor(engine, set.join('+'));
        const sig = await runSign(set.map((p) => shares[p]!), message, ids);
        assert.ok(independentVerify(engine, pub.groupPublicKey, message, sig), `signature by ${set.join(',')} verifies`);
        const altered = Uint8Array.from(message);
        altered[0]! ^= 1;
        assert.equal(independentVerify(engine, pub.groupPublicKey, altered, sig), false, 'altered message rejected');
      }
    });
  }
}

// Attacks: each one is injected by a transport that tampers with what one party receives; the
// run must abort with the right code, naming the party at fault.
async function dkgWith(engine: string, transport: Transport, ids?: Ids): Promise<unknown> {
  const parties = names(3);
  return runDkg(engine, parties, 2, ids ?? (await identities(parties)), transport);
}

const resign = (ids: Ids, env: Envelope, change: Partial<Envelope>): Envelope => {
  const { sig: _sig, ...unsigned } = { ...env, ...change };
  return signEnvelope(ids.keys[env.from]!.signingKey, unsigned);
};

for (const engine of ENGINES) {
  test(`${engine}: invalid DKG sub-share names its dealer, with the dealer's signed statement as evidence`, async () => {
    const parties = names(3);
    const ids = await identities(parties);
    // node-2 (malicious) sends node-3 a sub-share that does not match its commitment. It signs
    // and seals it properly, so it is authenticated but wrong.
    const transport: Transport = async (env, to) => (env.round === 'dkg.2' && env.from === 'node-2' && to === 'node-3' ? [await tamperSealed(ids, env)] : [env]);
    await expectBlame(() => dkgWith(engine, transport, ids), 'PROTOCOL_INVALID_SHARE', 'node-2');
    const err = (await dkgWith(engine, transport, ids).catch((e: unknown) => e)) as { details: { accusation?: { by?: string; evidence?: { share?: { from?: string } } } } };
    assert.equal(err.details.accusation?.by, 'node-3');
    assert.equal(err.details.accusation?.evidence?.share?.from, 'node-2');
  });

  test(`${engine}: equivocation in round 1 is caught by the echo and names the equivocator`, async () => {
    const parties = names(3);
    const ids = await identities(parties);
    // node-1 sends node-3 a different (but well-formed, validly signed) round-1 broadcast.
    const other = getEngine(engine).dkg({ me: 'node-1', parties, threshold: 2 }).round1();
    const transport: Transport = (env, to) => (env.round === 'dkg.1' && env.from === 'node-1' && to === 'node-3' ? [resign(ids, env, { payload: other })] : [env]);
    await expectBlame(() => dkgWith(engine, transport, ids), 'PROTOCOL_ECHO_MISMATCH', 'node-1');
  });
}

const ed = 'ed25519';

test('a message for another session is refused, naming its sender', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  const transport: Transport = (env, to) => (env.from === 'node-2' && to === 'node-1' && env.round === 'dkg.1' ? [resign(ids, env, { sessionId: '00'.repeat(32) })] : [env]);
  await expectBlame(() => dkgWith(ed, transport, ids), 'PROTOCOL_WRONG_SESSION', 'node-2');
});

test('a message for another epoch is refused, naming its sender', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  const transport: Transport = (env, to) => (env.from === 'node-3' && to === 'node-1' && env.round === 'dkg.echo' ? [resign(ids, env, { epoch: 1 })] : [env]);
  await expectBlame(() => dkgWith(ed, transport, ids), 'PROTOCOL_WRONG_EPOCH', 'node-3');
});

test('a message for another round is refused, naming its sender', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  const transport: Transport = (env, to) => (env.from === 'node-2' && to === 'node-3' && env.round === 'dkg.echo' ? [resign(ids, env, { round: 'dkg.2' })] : [env]);
  await expectBlame(() => dkgWith(ed, transport, ids), 'PROTOCOL_WRONG_ROUND', 'node-2');
});

test('a duplicate and a replayed message are refused, naming their sender', async () => {
  const parties = names(3);
  const dup: Transport = (env, to) => (env.from === 'node-1' && to === 'node-2' && env.round === 'dkg.1' ? [env, env] : [env]);
  await expectBlame(() => dkgWith(ed, dup), 'PROTOCOL_REPLAY', 'node-1');
  // Replay node-3's round-1 broadcast to node-2 again in the echo round.
  let saved: Envelope | undefined;
  const replay: Transport = (env, to) => {
    if (env.round === 'dkg.1' && env.from === 'node-3' && to === 'node-2') saved = env;
    if (env.round === 'dkg.echo' && env.from === 'node-3' && to === 'node-2') return [saved!];
    return [env];
  };
  const ids = await identities(parties);
  await expectBlame(() => dkgWith(ed, replay, ids), 'PROTOCOL_REPLAY', 'node-3');
});

test('a message from a non-member is refused, naming it', async () => {
  const parties = names(3);
  const ids = await identities([...parties, 'mallory']);
  const transport: Transport = (env, to) => {
    if (env.round !== 'dkg.1' || env.from !== 'node-1' || to !== 'node-2') return [env];
    const { sig: _s, ...u } = { ...env, from: 'mallory' };
    return [env, signEnvelope(ids.keys.mallory!.signingKey, u)];
  };
  await expectBlame(() => dkgWith(ed, transport, ids), 'PROTOCOL_NOT_MEMBER', 'mallory');
});

test('a message with a bad signature is refused, naming the claimed sender', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  // Payload changed in transit, signature left as it was.
  const transport: Transport = (env, to) => (env.round === 'dkg.echo' && env.from === 'node-1' && to === 'node-3' ? [{ ...env, payload: { round1: {} } }] : [env]);
  await expectBlame(() => dkgWith(ed, transport, ids), 'PROTOCOL_BAD_SIGNATURE', 'node-1');
});

test('signing: a bad signature share names its signer; a signer on another message is named', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  const shares = await runDkg(ed, parties, 2, ids);
  const set = [shares['node-1']!, shares['node-3']!];
  const message = new TextEncoder().encode('pay 1');
  const badShare: Transport = (env, to) =>
    env.round === 'sign.2' && env.from === 'node-3' && to === 'node-1' ? [resign(ids, env, { payload: { share: hex(new Uint8Array(32).fill(7)) } })] : [env];
  await expectBlame(() => runSign(set, message, ids, badShare), 'PROTOCOL_INVALID_SIGNATURE_SHARE', 'node-3');
  // node-3 was asked to sign another message: node-1 (the first to process) refuses and names it.
  const session = { engine: ed, keyId: set[0]!.keyId, epoch: 1, participants: ['node-1', 'node-3'], t: 2, n: 3, ceremonyId: 'c', rosterDigest: ids.rosterDigest };
  const { signParty } = await import('../../src/engine/index.js');
  const { runParties } = await import('../support/engine-run.js');
  const mixed = [
    signParty({ session, keys: ids.keys['node-1']!, roster: ids.roster }, { share: set[0]!, message }),
    signParty({ session, keys: ids.keys['node-3']!, roster: ids.roster }, { share: set[1]!, message: new TextEncoder().encode('pay 2') }),
  ];
  await expectBlame(() => runParties(mixed), 'PROTOCOL_MESSAGE_MISMATCH', 'node-3');
});

test('an aborted party refuses to continue and yields no share', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  const { dkgParty } = await import('../../src/engine/index.js');
  const session = { engine: ed, keyId: 'new', epoch: 0, participants: parties, t: 2, n: 3, ceremonyId: 'c', rosterDigest: ids.rosterDigest };
  const p = dkgParty({ session, keys: ids.keys['node-1']!, roster: ids.roster });
  await p.start();
  await assert.rejects(p.receive([]), (e: { code?: string }) => e.code === 'PROTOCOL_MISSING_MESSAGE');
  assert.equal(p.expecting, 'aborted');
  assert.throws(() => p.result());
  await assert.rejects(p.receive([]), (e: { code?: string }) => e.code === 'PROTOCOL_ABORTED');
});

// Re-seals a round-2 sub-share with a wrong value, signed by its real sender (a malicious dealer).
async function tamperSealed(ids: Ids, env: Envelope): Promise<Envelope> {
  const statement = await openDirect(ids.keys[env.to]!.ageIdentity, env, ids.roster[env.from]!.signingPublicKey);
  const share = (statement.body as { share: string }).share;
  const wrong = (share.slice(0, 2) === '01' ? '02' : '01') + share.slice(2);
  const { body: _b, sig: _s, ...header } = statement;
  const payload = await sealDirect(ids.keys[env.from]!.signingKey, header, { share: wrong }, ids.roster[env.to]!.ageRecipient);
  return resign(ids, env, { payload });
}

