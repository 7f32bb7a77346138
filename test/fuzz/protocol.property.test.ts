import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { KeyriteError } from '../../src/base/errors.js';
import {
  BROADCAST, dkgParty, openDirect, sealDirect, signEnvelope, signParty,
  type Envelope, type ProtocolParty, type Rng, type SessionParams, type Share,
} from '../../src/engine/index.js';
import { checkShape } from '../../src/engine/envelope.js';
import { dkgSession, identities, keySession, msg32, names, runDkg, type Ids } from '../support/engine.js';
import { anyJson, assertCleanError, attempt, fuzzRuns, mutatedJson, pathsOf, replaced, type Json } from '../support/fuzz.js';

// Property tests of the protocol envelopes a party receives (docs/ARCHITECTURE.md §5): checkShape
// on any value, and ProtocolParty.receive with one round's inbox damaged — by an outsider (random
// values, envelopes with a node replaced or removed: the signature no longer holds) and by an
// insider, a member who signs (and seals) whatever it sends, so the engine's own payload checks
// are reached. Any inbox ends with the party's next messages, or with a clean abort: a
// KeyriteError of the errors table that names the party to blame (in its `party` field and its
// message), after which the run is aborted for good. Never a TypeError, an INTERNAL or a hang.
//
// Each party draws its randomness from a seeded generator, so a fresh party of a given name sends
// exactly what it sent in the honest run recorded once in `before`: a case replays the recorded
// inbox up to the round it damages, at the cost of one party's work, not a whole run's.

const TIMEOUT = { timeout: 5 * 60_000 };
const PARTIES = names(3);

/** A deterministic Rng: sha256 of (seed, counter) blocks. */
function seeded(seed: string): Rng {
  let counter = 0;
  return (n = 32) => {
    const out = new Uint8Array(n);
    for (let at = 0; at < n; at += 32) out.set(createHash('sha256').update(`${seed}/${counter++}`).digest().subarray(0, Math.min(32, n - at)), at);
    return out;
  };
}

interface Scenario {
  label: string;
  members: string[];
  make: (name: string) => ProtocolParty<unknown>;
  /** Per member, what it received at each receive() of the honest run. */
  inboxes: Record<string, unknown[][]>;
}

/** Runs the honest protocol once with seeded parties, recording every inbox. */
async function record(label: string, members: string[], make: (name: string) => ProtocolParty<unknown>): Promise<Scenario> {
  const parties = members.map(make);
  const inboxes: Record<string, unknown[][]> = Object.fromEntries(members.map((m) => [m, []]));
  let outgoing: Envelope[] = [];
  for (const p of parties) outgoing.push(...(await p.start()));
  while (parties.some((p) => p.expecting !== 'done')) {
    const inbox = new Map<string, unknown[]>(members.map((n) => [n, []]));
    for (const env of outgoing) for (const to of env.to === BROADCAST ? members.filter((n) => n !== env.from) : [env.to]) inbox.get(to)!.push(env);
    outgoing = [];
    for (const p of parties) {
      if (p.expecting === 'done') continue;
      inboxes[p.name]!.push(inbox.get(p.name)!);
      outgoing.push(...(await p.receive(inbox.get(p.name)!)));
    }
  }
  return { label, members, make, inboxes };
}

let ids: Ids;
const scenarios: Scenario[] = [];
before(async () => {
  ids = await identities(PARTIES);
  for (const engine of ['ed25519', 'bip340']) {
    const session = dkgSession(engine, PARTIES, 2, ids);
    const dkg = (name: string) => dkgParty({ session, keys: ids.keys[name]!, roster: ids.roster }, { rng: seeded(`dkg ${engine} ${name}`) }) as ProtocolParty<unknown>;
    scenarios.push(await record(`${engine} dkg`, PARTIES, dkg));
    const shares = await runDkg(engine, PARTIES, 2, ids);
    const signers = PARTIES.slice(0, 2);
    const signing: SessionParams = keySession(shares[signers[0]!]!, signers, ids);
    const sign = (name: string) => signParty({ session: signing, keys: ids.keys[name]!, roster: ids.roster }, { share: shares[name] as Share, message: msg32('fuzz'), rng: seeded(`sign ${engine} ${name}`) }) as ProtocolParty<unknown>;
    scenarios.push(await record(`${engine} sign`, signers, sign));
  }
});

test('checkShape: any value is a well-formed envelope or is refused as malformed, blaming the sender it claims', TIMEOUT, async () => {
  const real = scenarios[0]!.inboxes[PARTIES[0]!]![0]! as Json[];
  await fc.assert(
    fc.asyncProperty(fc.oneof(anyJson, mutatedJson(real)), async (v) => {
      const r = await attempt('checkShape', () => checkShape(v), (e, what) => assertCleanError(e, what, ['PROTOCOL_MALFORMED']));
      if ('error' in r) {
        const from = (v as { from?: unknown } | null)?.from;
        assert.equal((r.error as KeyriteError).party, typeof from === 'string' && from !== '' ? from : 'unknown sender');
      }
    }),
    { numRuns: fuzzRuns(1000) },
  );
});

type Damage = { scenario: number; member: number; round: number; how: 'outsider' | 'insider' | 'garbage'; pick: number; by: Json | undefined; at: number; field: number; garbage: Json[] };

const damage: fc.Arbitrary<Damage> = fc.record({
  scenario: fc.nat(), member: fc.nat(), round: fc.nat(), how: fc.constantFrom('outsider', 'insider', 'insider', 'garbage'),
  pick: fc.nat(), by: fc.option(anyJson, { nil: undefined }), at: fc.nat(), field: fc.nat(), garbage: fc.array(anyJson, { maxLength: 4 }),
});

/** `inbox` with one envelope rewritten by its own sender: a header field or a node of its payload (or sealed body) changed, then signed (and sealed) again. */
async function insider(inbox: unknown[], receiver: string, d: Damage): Promise<unknown[]> {
  if (!inbox.length) return inbox;
  const i = d.pick % inbox.length;
  const env = inbox[i] as Envelope;
  const key = ids.keys[env.from]!.signingKey;
  const fields = ['payload', 'payload', 'payload', 'round', 'to', 'epoch', 'sessionId', 'from', 'v'] as const;
  const field = fields[d.field % fields.length]!;
  let changed: Envelope;
  if (field === 'payload' && env.to !== BROADCAST) {
    // A sealed point-to-point message: the sender seals another body, or a statement with another header.
    const st = await openDirect(ids.keys[receiver]!.ageIdentity, env, ids.roster[env.from]!.signingPublicKey);
    const { sig: _s, body, ...header } = st;
    const mutated = replaceAt({ body: body as Json, ...(header as Record<string, Json>) }, d);
    const { body: newBody, ...newHeader } = (typeof mutated === 'object' && mutated !== null && !Array.isArray(mutated) ? mutated : { body: mutated }) as Record<string, Json>;
    const payload = await sealDirect(key, { ...header, ...newHeader } as never, newBody, ids.roster[receiver]!.ageRecipient);
    const { sig: _e, ...unsigned } = env;
    changed = signEnvelope(key, { ...unsigned, payload });
  } else {
    const { sig: _sig, ...unsigned } = env;
    const value = field === 'payload' ? replaceAt(unsigned.payload as Json, d) : (d.by ?? null);
    changed = signEnvelope(key, { ...unsigned, [field]: value } as never);
  }
  return inbox.map((e, j) => (j === i ? changed : e));
}

/** `v` with the node `d.at` picks replaced by `d.by` (removed when undefined). */
function replaceAt(v: Json, d: Damage): Json {
  const paths = pathsOf(v);
  return replaced(v, paths[d.at % paths.length]!, d.by) ?? null;
}

test('ProtocolParty.receive: any damaged inbox, from an outsider or a member who signs it, gives the next messages or aborts cleanly naming a party', TIMEOUT, async () => {
  await fc.assert(
    fc.asyncProperty(damage, async (d) => {
      const s = scenarios[d.scenario % scenarios.length]!;
      const name = s.members[d.member % s.members.length]!;
      const recorded = s.inboxes[name]!;
      const round = d.round % recorded.length;
      const p = s.make(name);
      await p.start();
      for (let k = 0; k < round; k++) await p.receive(recorded[k]!);
      const honest = recorded[round]!;
      const inbox = d.how === 'garbage'
        ? d.garbage
        : d.how === 'outsider'
          ? (() => {
            const m = replaceAt(honest as Json[], d);
            return Array.isArray(m) ? m : [m];
          })()
          : await insider(honest, name, d);
      const r = await attempt(`${s.label}, ${name}, receive ${round + 1}`, () => p.receive(inbox), (e, what) => {
        const err = assertCleanError(e, what);
        assert.ok(typeof err.party === 'string' && err.party.length > 0, `${what}: ${err.code} names no party (${err.message})`);
        assert.ok(err.message.includes(err.party), `${what}: the message does not name ${err.party}: ${err.message}`);
      });
      if ('error' in r) {
        assert.equal(p.expecting, 'aborted', 'a refused inbox aborts the run');
        await assert.rejects(p.receive(honest), (e: unknown) => (e as KeyriteError).code === 'PROTOCOL_ABORTED');
      }
    }),
    { numRuns: fuzzRuns(120) },
  );
});

test('regression: an envelope from an empty sender is malformed, blaming "unknown sender", not a party with no name', async () => {
  const s = scenarios[0]!;
  const p = s.make(PARTIES[0]!);
  await p.start();
  const env = s.inboxes[PARTIES[0]!]![0]![0] as Envelope;
  const { sig: _sig, ...unsigned } = env;
  const forged = signEnvelope(ids.keys[env.from]!.signingKey, { ...unsigned, from: '' });
  assert.throws(() => checkShape(forged), (e: unknown) => (e as KeyriteError).code === 'PROTOCOL_MALFORMED' && (e as KeyriteError).party === 'unknown sender');
  await assert.rejects(p.receive([forged]), (e: unknown) => (e as KeyriteError).party === 'unknown sender');
});
