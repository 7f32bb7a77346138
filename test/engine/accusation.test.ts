import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestOf } from '../../src/base/canonical.js';
import { signObject } from '../../src/base/ed25519.js';
import {
  judgeAccusation, openDirect, ProtocolParty, publicPackageOf, sealDirect, signEnvelope,
  type Accusation, type Bench, type DirectStatement, type Envelope, type PublicPackage, type SessionParams, type Share,
} from '../../src/engine/index.js';
import { reshareRounds } from '../../src/engine/reshare.js';
import { SUITES } from '../../src/engine/suite.js';
import { runParties, type Transport } from '../support/engine-run.js';
import { dkgSession, identities, keySession, names, runDkg, runRefresh, runReshare, type Ids } from '../support/engine.js';

// An accusation of a bad commitment or sub-share proves the dealer's fault only by the dealer's
// own signed messages (docs/ARCHITECTURE.md §5, "Blame"): a real bad share is proved; a framed
// honest dealer, an altered share, a statement signed by someone else, and evidence from another
// session are not.

const bench = (ids: Ids, session: SessionParams, protocol: string, old?: PublicPackage): Bench => ({
  session, protocol, old, signingKeyOf: (n) => ids.roster[n]?.signingPublicKey,
});

/** The accusation a run's failure carries (the error's details). */
async function accusationOf(run: () => Promise<unknown>): Promise<Accusation> {
  const e = await run().then(() => assert.fail('the run should abort'), (err: { details?: { accusation?: Accusation } }) => err);
  assert.ok(e.details?.accusation, 'the error carries an accusation');
  return e.details.accusation;
}

/** `from`'s sub-share to `to` in `round`, re-sealed wrong and signed by `from` itself: a dealer really at fault (ecdsa nests it under `vss`). */
function badDealer(ids: Ids, round: string, from: string, to: string): Transport {
  return async (env, recipient) => {
    if (env.round !== round || env.from !== from || recipient !== to) return [env];
    const st = await openDirect(ids.keys[to]!.ageIdentity, env, ids.roster[from]!.signingPublicKey);
    const { body, sig: _s, ...header } = st;
    const b = body as { share?: string; vss?: { share: string } };
    const wrong = b.vss ? { ...b, vss: { share: flip(b.vss.share) } } : { ...b, share: flip(b.share!) };
    const payload = await sealDirect(ids.keys[from]!.signingKey, header, wrong, ids.roster[to]!.ageRecipient);
    const { sig: _e, ...unsigned } = { ...env, payload };
    return [signEnvelope(ids.keys[from]!.signingKey, unsigned)];
  };
}

const flip = (share: string): string => (share.slice(0, 2) === '01' ? '02' : '01') + share.slice(2);

/** An honest run, watched: the dealer's round-1 broadcast and its sub-share to `to`, as `to` holds them. */
function watching(ids: Ids, protocol: string, dealer: string, to: string, seen: { commitment?: Envelope; share?: DirectStatement }): Transport {
  return async (env, recipient) => {
    if (env.from === dealer && env.round === `${protocol}.1`) seen.commitment = env;
    if (env.from === dealer && recipient === to && env.round === `${protocol}.2`) seen.share = await openDirect(ids.keys[to]!.ageIdentity, env, ids.roster[dealer]!.signingPublicKey);
    return [env];
  };
}

for (const engine of ['ed25519', 'bip340', 'ecdsa']) {
  test(`${engine}: a dealer's bad DKG sub-share is proved by its own signed messages`, async () => {
    const parties = names(3);
    const ids = await identities(parties);
    const a = await accusationOf(() => runDkg(engine, parties, 2, ids, badDealer(ids, 'dkg.2', 'node-2', 'node-3')));
    assert.equal(a.by, 'node-3');
    assert.equal(a.against, 'node-2');
    const v = judgeAccusation(a, 'node-3', bench(ids, dkgSession(engine, parties, 2, ids), 'dkg'));
    assert.deepEqual(v.verified && { culprit: v.culprit, code: v.code, digest: v.digest }, { culprit: 'node-2', code: 'PROTOCOL_INVALID_SHARE', digest: digestOf(a.evidence) });
  });
}

test('a bad refresh sub-share and a bad reshare sub-share are proved', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  const shares = await runDkg('bip340', parties, 2, ids);
  const key = publicPackageOf(shares['node-1']!);
  const refresh = await accusationOf(() => runRefresh(Object.values(shares), ids, badDealer(ids, 'refresh.2', 'node-3', 'node-1')));
  const refreshed = judgeAccusation(refresh, 'node-1', bench(ids, keySession(key, parties, ids, 'c-refresh'), 'refresh'));
  assert.equal(refreshed.verified && refreshed.culprit, 'node-3');

  const reshare = await accusationOf(() => runReshare(key, [shares['node-1']!, shares['node-2']!], parties, 2, ids, badDealer(ids, 'reshare.2', 'node-1', 'node-3')));
  const session: SessionParams = { ...keySession(key, parties, ids, 'c-reshare'), t: 2, n: 3, dealers: ['node-1', 'node-2'] };
  const reshared = judgeAccusation(reshare, 'node-3', bench(ids, session, 'reshare', key));
  assert.equal(reshared.verified && reshared.culprit, 'node-1');
  assert.equal(judgeAccusation(reshare, 'node-3', bench(ids, session, 'reshare')).verified, false, 'without the old key nothing about λ·share can be checked');
});

test('a reshare dealer whose commitment is not λ·(its share) is proved by its signed broadcast alone', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  const shares = await runDkg('ed25519', parties, 2, ids);
  const key = publicPackageOf(shares['node-1']!);
  const dealers = ['node-1', 'node-2'];
  const session: SessionParams = { ...keySession(key, parties, ids, 'c-reshare'), t: 2, n: 3, dealers };
  // node-2 deals from node-1's share instead of its own, built raw past parseShare (which would refuse it).
  const forged: Share = { ...shares['node-2']!, secret: shares['node-1']!.secret };
  const rounds = (me: string, share?: Share) => reshareRounds(SUITES.ed25519!, { me, old: key, share, dealers, holders: parties, threshold: 2, sessionId: 'unused' });
  const party = (me: string, share?: Share) => new ProtocolParty<Share>(session, ids.keys[me]!, ids.roster, rounds(me, share));
  const a = await accusationOf(() => runParties([party('node-1', shares['node-1']), party('node-2', forged), party('node-3')]));
  assert.equal(a.code, 'PROTOCOL_INVALID_COMMITMENT');
  assert.equal(a.evidence.share, undefined);
  const v = judgeAccusation(a, a.by, bench(ids, session, 'reshare', key));
  assert.equal(v.verified && v.culprit, 'node-2');
});

test('the framed node: an honest dealer accused with its own true messages is not proved at fault', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  const session = dkgSession('ed25519', parties, 2, ids);
  const seen: { commitment?: Envelope; share?: DirectStatement } = {};
  await runDkg('ed25519', parties, 2, ids, watching(ids, 'dkg', 'node-2', 'node-3', seen));
  const framing: Accusation = { v: 1, code: 'PROTOCOL_INVALID_SHARE', by: 'node-3', against: 'node-2', protocol: 'dkg', session, evidence: seen };
  const v = judgeAccusation(framing, 'node-3', bench(ids, session, 'dkg'));
  assert.equal(v.verified, false);
  assert.match(v.why, /node-2's signed messages pass the check node-3 says they fail/);
  assert.equal(judgeAccusation({ ...framing, evidence: {} }, 'node-3', bench(ids, session, 'dkg')).verified, false, 'no evidence proves nothing');
  assert.equal(judgeAccusation({ ...framing, code: 'PROTOCOL_BAD_SIGNATURE' }, 'node-3', bench(ids, session, 'dkg')).verified, false);
});

test('forged evidence is no proof: altered share, another node\'s signature, another session, another accuser', async () => {
  const parties = names(3);
  const ids = await identities(parties);
  const session = dkgSession('ed25519', parties, 2, ids);
  const seen: { commitment?: Envelope; share?: DirectStatement } = {};
  await runDkg('ed25519', parties, 2, ids, watching(ids, 'dkg', 'node-2', 'node-3', seen));
  const judge = (evidence: Accusation['evidence'], s: SessionParams = session, by = 'node-3') =>
    judgeAccusation({ v: 1, code: 'PROTOCOL_INVALID_SHARE', by, against: 'node-2', protocol: 'dkg', session: s, evidence }, 'node-3', bench(ids, session, 'dkg'));
  const share = seen.share!;
  const altered = { ...share, body: { share: flip((share.body as { share: string }).share) } };
  assert.match(assertUnproved(judge({ ...seen, share: altered })), /not signed by node-2/);
  const { sig: _s, ...unsigned } = altered;
  const signedByAccuser = { ...unsigned, sig: signObject(ids.keys['node-3']!.signingKey, unsigned) };
  assert.match(assertUnproved(judge({ ...seen, share: signedByAccuser })), /not signed by node-2/);
  assert.match(assertUnproved(judge(seen, session, 'node-1')), /names node-1 as its accuser/);

  // A real bad share of node-2's from session A, presented in session B.
  const bad = await accusationOf(() => runDkg('ed25519', parties, 2, ids, badDealer(ids, 'dkg.2', 'node-2', 'node-3')));
  const later = dkgSession('ed25519', parties, 2, ids, 'c-later');
  assert.match(assertUnproved(judgeAccusation(bad, 'node-3', bench(ids, later, 'dkg'))), /another session/);
  assert.match(assertUnproved(judgeAccusation({ ...bad, session: later }, 'node-3', bench(ids, later, 'dkg'))), /sessionId is/);
  assert.equal(judgeAccusation(bad, 'node-3', bench(ids, session, 'dkg')).verified, true, 'in its own session it proves the fault');
});

function assertUnproved(v: ReturnType<typeof judgeAccusation>): string {
  assert.equal(v.verified, false);
  return v.why;
}
