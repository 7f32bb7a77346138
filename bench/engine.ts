import { randomBytes } from 'node:crypto';
import { digestOf } from '../src/base/canonical.js';
import { asMultiRounds } from '../src/engine/protocol.js';
import { dkgParty, getEngine, sessionIdOf, signParty, type MultiRounds, type RoundIn, type Rounds, type Share } from '../src/engine/index.js';
import { SUITES, type Frost } from '../src/engine/suite.js';
import { localIdentities, runParties } from '../test/support/engine-run.js';
import { median, ms, QUICK, row, timed, type Row } from './table.js';

// DKG and signing per engine, t-of-n, as keyrite runs them: every party's authenticated protocol
// (signed envelopes, echo round, age-sealed point-to-point payloads; docs/ARCHITECTURE.md §5),
// all parties in this one process. The floor does the same rounds with no envelopes: noble's own
// FROST for ed25519 and bip340; for ecdsa, which noble has no threshold protocol for, keyrite's
// DKLs23 rounds themselves with messages passed in memory, so that row measures what the
// authentication adds and nothing else. Target (issue 13): ≤ 1.5× the floor.

const TARGET = 1.5;
type Engine = 'ed25519' | 'bip340' | 'ecdsa';

/** One FROST DKG in noble alone: every party's round 1, round 2 and round 3, as keyrite's nodes call them. */
function nobleDkg(frost: Frost, t: number, n: number): void {
  const ids = Array.from({ length: n }, (_, i) => frost.Identifier.fromNumber(i + 1));
  const signers = { min: t, max: n };
  const r1 = ids.map((id) => frost.DKG.round1(id, signers));
  const r2 = r1.map((me, i) => frost.DKG.round2(me.secret, r1.filter((_, j) => j !== i).map((o) => o.public)));
  r1.forEach((me, i) => {
    const others = r1.filter((_, j) => j !== i);
    const mine = others.map((_, k) => r2[k >= i ? k + 1 : k]![ids[i]!]!);
    frost.DKG.round3(me.secret, others.map((o) => o.public), mine);
  });
}

/** One FROST signing in noble alone: every signer commits, signs its share, verifies every share and aggregates (as sign.ts). */
function nobleSign(frost: Frost, dealt: ReturnType<Frost['trustedDealer']>, t: number, message: Uint8Array): void {
  const ids = Object.keys(dealt.secretShares).slice(0, t);
  const commits = ids.map((id) => frost.commit(dealt.secretShares[id]!));
  const list = commits.map((c) => c.commitments);
  const shares = Object.fromEntries(ids.map((id, i) => [id, frost.signShare(dealt.secretShares[id]!, dealt.public, commits[i]!.nonces, list, message)]));
  for (const _ of ids) {
    for (const id of ids) if (!frost.verifyShare(dealt.public, list, message, id, shares[id]!)) throw new Error('noble share does not verify');
    frost.aggregate(dealt.public, list, message, shares);
  }
}

/** An engine's rounds run to the end with messages passed in memory: no envelopes, signatures or age. */
function bareRun<Out>(all: (Rounds<Out> | MultiRounds<Out>)[]): (Out | null)[] {
  const rounds = all.map((r) => ('plan' in r ? r : asMultiRounds(r)));
  const names = rounds.map((r) => r.me);
  const plan = rounds[0]!.plan;
  let inbox: Record<string, RoundIn> = Object.fromEntries(names.map((p) => [p, { broadcast: {}, direct: {} }]));
  for (let k = 1; k <= plan.length; k++) {
    const next: Record<string, RoundIn> = Object.fromEntries(names.map((p) => [p, { broadcast: {}, direct: {} }]));
    for (const r of rounds) {
      if (!plan[k - 1]!.senders.includes(r.me)) continue;
      const out = r.send(k, inbox[r.me]!);
      if (out?.broadcast !== undefined) for (const p of names) next[p]!.broadcast[r.me] = out.broadcast;
      for (const [to, body] of Object.entries(out?.direct ?? {})) next[to]!.direct[r.me] = body;
    }
    inbox = next;
  }
  return rounds.map((r) => r.finish(inbox[r.me]!));
}

export async function authenticatedDkg(engine: Engine, t: number, n: number): Promise<{ ms: number; shares: Record<string, Share>; keys: Awaited<ReturnType<typeof localIdentities>> }> {
  const parties = Array.from({ length: n }, (_, i) => `node-${i + 1}`);
  const ids = await localIdentities(parties);
  const session = { engine, t, n, participants: parties, ceremonyId: `bench-${t}-${n}`, rosterDigest: digestOf(ids.roster), keyId: 'new', epoch: 0 };
  const [took, out] = await timed(() => runParties(parties.map((p) => dkgParty({ session, keys: ids.keys[p]!, roster: ids.roster }))));
  return { ms: took, shares: out as Record<string, Share>, keys: ids };
}

export async function authenticatedSign(engine: Engine, t: number, dkg: Awaited<ReturnType<typeof authenticatedDkg>>, i: number): Promise<number> {
  const signers = Object.keys(dkg.shares).slice(0, t);
  const share0 = dkg.shares[signers[0]!]!;
  const { keys, roster } = dkg.keys;
  const session = { engine, t, n: share0.parties.length, participants: signers, ceremonyId: `bench-sign-${i}`, rosterDigest: digestOf(roster), keyId: share0.keyId, epoch: 1 };
  const message = Uint8Array.from(randomBytes(32));
  return (await timed(() => runParties(signers.map((p) => signParty({ session, keys: keys[p]!, roster }, { share: dkg.shares[p]!, message })))))[0];
}

async function floorDkg(engine: Engine, t: number, n: number): Promise<number> {
  if (engine !== 'ecdsa') return (await timed(() => nobleDkg(SUITES[engine]!.frost, t, n)))[0];
  const parties = Array.from({ length: n }, (_, i) => `node-${i + 1}`);
  const sessionId = sessionIdOf({ engine, t, n, participants: parties, ceremonyId: 'bare', rosterDigest: '0'.repeat(64), keyId: 'new', epoch: 0 });
  return (await timed(() => bareRun(parties.map((me) => getEngine('ecdsa').dkg({ me, parties, threshold: t, sessionId })))))[0];
}

async function floorSign(engine: Engine, t: number, n: number, shares: Record<string, Share>, i: number): Promise<number> {
  const message = Uint8Array.from(randomBytes(32));
  if (engine !== 'ecdsa') {
    const frost = SUITES[engine]!.frost;
    const dealt = frost.trustedDealer({ min: t, max: n });
    return (await timed(() => nobleSign(frost, dealt, t, message)))[0];
  }
  const signers = Object.keys(shares).slice(0, t);
  const sessionId = sessionIdOf({ engine, t, n, participants: signers, ceremonyId: `bare-${i}`, rosterDigest: '0'.repeat(64), keyId: shares[signers[0]!]!.keyId, epoch: 1 });
  return (await timed(() => bareRun(signers.map((p) => getEngine('ecdsa').sign({ share: shares[p]!, signers, message, sessionId })))))[0];
}

const FLOOR_WHAT: Record<Engine, string> = {
  ed25519: 'noble ed25519_FROST, same rounds',
  bip340: 'noble schnorr_FROST, same rounds',
  ecdsa: 'keyrite DKLs23 rounds, no envelopes',
};

export async function rows(): Promise<Row[]> {
  const sizes: [number, number][] = QUICK ? [[2, 3]] : [[2, 3], [5, 7]];
  const signRuns = QUICK ? 3 : 5;
  const out: Row[] = [];
  // An untimed run per engine first, so that JIT warm-up does not fall on the first figure.
  for (const engine of ['ed25519', 'bip340'] as const) await authenticatedSign(engine, 2, await authenticatedDkg(engine, 2, 3), -1);
  for (const engine of ['ed25519', 'bip340', 'ecdsa'] as const) {
    for (const [t, n] of sizes) {
      const floorDkgMs = await floorDkg(engine, t, n);
      const dkg = await authenticatedDkg(engine, t, n);
      out.push(row(`${engine} DKG ${t}-of-${n}`, ms(dkg.ms), { ...ms(floorDkgMs), what: FLOOR_WHAT[engine] }, TARGET));
      const full: number[] = [];
      const bare: number[] = [];
      for (let i = 0; i < signRuns; i++) {
        bare.push(await floorSign(engine, t, n, dkg.shares, i));
        full.push(await authenticatedSign(engine, t, dkg, i));
      }
      out.push(row(`${engine} sign ${t}-of-${n}`, ms(median(full)), { ...ms(median(bare)), what: FLOOR_WHAT[engine] }, TARGET, 'lower', `median of ${signRuns}, all ${t} signers in one process`));
    }
  }
  return out;
}
