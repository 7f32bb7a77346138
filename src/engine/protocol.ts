import { KeyriteError } from '../base/errors.js';
import type { SigningKey } from '../base/ed25519.js';
import { ACCUSABLE, type Accusation } from './accusation.js';
import { blame, inputError, malformed } from './blame.js';
import {
  BROADCAST, checkShape, envelopeDigest, envelopeSignatureValid, membersOf, openDirect, sealDirect, sessionIdOf, signEnvelope,
  type DirectStatement, type Envelope, type SessionParams,
} from './envelope.js';
import type { MultiRounds, RoundIn, RoundOut, RoundPlan, Rounds } from './types.js';

// One party's authenticated run of a protocol, one round at a time:
//   start()               → round-1 messages (none for a reshare holder who does not deal)
//   receive(round-1 msgs) → echo: signed digests of every round-1 broadcast seen
//   receive(echo msgs)    → round 2 (broadcast and/or sealed point-to-point payloads)
//   receive(round-k msgs) → round k + 1, until the last round; then []  and result() holds the
//                           share or signature
// Two-round engines (FROST DKG, signing, refresh, reshare) describe themselves as `Rounds`;
// longer protocols (DKLs23 signing: three rounds) as `MultiRounds`. A node process keeps this
// object in memory between rounds. Any error aborts the run for good: secret round state is
// wiped, no result is kept, and the error names the party to blame.

export type PartyKeys = { name: string; signingKey: SigningKey; ageIdentity: string };
export type Member = { signingPublicKey: string; ageRecipient: string };
export type Roster = Record<string, Member>;
/** `round${k}`: waiting for round k's messages. */
export type Stage = `round${number}` | 'echo' | 'done' | 'aborted';

/** ecdsa blame codes whose culprit's signed point-to-point statement is attached as `details.evidence`, kept in the node. */
const EVIDENCE_CODES = new Set(['PROTOCOL_OT_CHECK', 'PROTOCOL_MULTIPLICATION_CHECK', 'PROTOCOL_INCONSISTENT_MULTIPLICATION', 'PROTOCOL_INVALID_DECOMMITMENT']);

/** A two-round description as a protocol of two rounds: round 1 a broadcast, round 2 either kind. */
export function asMultiRounds<Out>(r: Rounds<Out>): MultiRounds<Out> {
  return {
    protocol: r.protocol,
    me: r.me,
    plan: [
      { senders: r.round1Senders, receivers: [], broadcast: true, direct: false },
      { senders: r.round2Senders, receivers: r.round2Receivers, broadcast: !r.round2Direct, direct: r.round2Direct },
    ],
    send(round, received) {
      if (round === 1) {
        const payload = r.round1();
        return payload === null ? null : { broadcast: payload };
      }
      return r.round2(received.broadcast);
    },
    finish: (received) => r.finish(r.round2Direct ? received.direct : received.broadcast),
    wipe: () => r.wipe(),
  };
}

const isMulti = <Out>(r: Rounds<Out> | MultiRounds<Out>): r is MultiRounds<Out> => 'plan' in r;
const emptyIn = (): RoundIn => ({ broadcast: {}, direct: {} });

export class ProtocolParty<Out> {
  readonly sessionId: string;
  readonly members: readonly string[];
  private readonly rounds: MultiRounds<Out>;
  private stage: Stage = 'round1';
  private started = false;
  private busy = false;
  private readonly seen = new Set<string>();
  /** Round k's inputs, k = 1 … N (own broadcast included). */
  private readonly inputs: RoundIn[] = [];
  private readonly round1Digests: Record<string, string> = {};
  private readonly round1Envelopes: Record<string, Envelope> = {};
  private readonly evidence: Record<string, DirectStatement> = {};
  private output: Out | null = null;

  constructor(
    readonly session: SessionParams,
    private readonly keys: PartyKeys,
    private readonly roster: Roster,
    rounds: Rounds<Out> | MultiRounds<Out>,
  ) {
    this.rounds = isMulti(rounds) ? rounds : asMultiRounds(rounds);
    this.sessionId = sessionIdOf(session);
    this.members = membersOf(session);
    const unknown = this.members.filter((m) => !roster[m]);
    if (unknown.length) throw inputError('SESSION_MISMATCH', `session members ${unknown.join(', ')} are not in the roster`);
    if (rounds.me !== keys.name || !this.members.includes(keys.name)) throw inputError('SESSION_MISMATCH', `${keys.name} is not a member of this session`);
    for (let k = 0; k < this.rounds.plan.length; k++) this.inputs.push(emptyIn());
  }

  get name(): string {
    return this.keys.name;
  }

  get expecting(): Stage {
    return this.stage;
  }

  /** The share or signature, once done; null for a party that only deals. */
  result(): Out | null {
    if (this.stage !== 'done') throw inputError('PROTOCOL_NOT_DONE', `${this.name}'s run is ${this.stage}, not done`);
    return this.output;
  }

  abort(): void {
    if (this.stage !== 'done') this.output = null;
    if (this.stage !== 'aborted' && this.stage !== 'done') this.rounds.wipe();
    if (this.stage !== 'done') this.stage = 'aborted';
  }

  start(): Promise<Envelope[]> {
    return this.guarded(async () => {
      if (this.started) throw inputError('PROTOCOL_STARTED', `${this.name} already started this run`);
      this.started = true;
      const out = this.rounds.send(1, emptyIn());
      const envelopes = out ? await this.emit(1, out) : [];
      for (const env of envelopes) if (env.to === BROADCAST) this.recordRound1(env);
      return envelopes;
    });
  }

  /** Processes exactly one round's incoming envelopes and returns this party's next messages. */
  receive(incoming: readonly unknown[]): Promise<Envelope[]> {
    return this.guarded(async () => {
      if (!this.started) throw inputError('PROTOCOL_NOT_STARTED', `${this.name} has not started this run`);
      if (this.stage === 'echo') return this.onEcho(incoming);
      const k = this.currentRound();
      if (k === null) throw inputError('PROTOCOL_DONE', `${this.name}'s run is already ${this.stage}`);
      await this.take(k, incoming);
      if (k === 1) {
        this.stage = 'echo';
        return [this.broadcast('echo', { round1: this.round1Digests })];
      }
      return this.advance(k);
    });
  }

  private currentRound(): number | null {
    const m = /^round(\d+)$/.exec(this.stage);
    return m ? Number(m[1]) : null;
  }

  private plan(k: number): RoundPlan {
    return this.rounds.plan[k - 1]!;
  }

  private async onEcho(incoming: readonly unknown[]): Promise<Envelope[]> {
    for (const env of this.accept(incoming, 'echo', this.members, { broadcast: true, direct: false })) this.compareEcho(env);
    return this.advance(1);
  }

  // Round k's inputs are complete: send round k + 1 (or finish), then wait for the next round
  // this party receives; a round it does not receive is skipped with empty inputs.
  private async advance(k: number): Promise<Envelope[]> {
    const last = this.rounds.plan.length;
    const envelopes: Envelope[] = [];
    for (let done = k; ; done++) {
      if (done === last) {
        this.withEvidence(() => {
          this.output = this.rounds.finish(this.inputs[last - 1]!);
        });
        this.rounds.wipe();
        this.stage = 'done';
        return envelopes;
      }
      const out = this.withEvidence(() => this.rounds.send(done + 1, this.inputs[done - 1]!));
      if (out) envelopes.push(...(await this.emit(done + 1, out)));
      if (this.plan(done + 1).receivers.includes(this.name)) {
        this.stage = `round${done + 1}`;
        return envelopes;
      }
    }
  }

  // A bad commitment or sub-share is provable: the accusation carries the culprit's signed
  // messages, for the coordinator to check before it names anyone (accusation.ts). An ecdsa
  // multiplication fault keeps its statement in the node (its check needs this party's secrets).
  private withEvidence<T>(step: () => T): T {
    try {
      return step();
    } catch (e) {
      if (e instanceof KeyriteError && typeof e.party === 'string' && e.party !== this.name) {
        if (ACCUSABLE.has(e.code) && this.rounds.protocol !== 'sign') e.details.accusation = this.accusation(e.code, e.party);
        if (EVIDENCE_CODES.has(e.code)) e.details.evidence = this.evidence[e.party];
      }
      throw e;
    }
  }

  private accusation(code: string, against: string): Accusation {
    const commitment = this.round1Envelopes[against];
    const share = this.evidence[against];
    return { v: 1, code, by: this.name, against, protocol: this.rounds.protocol, session: this.session, evidence: { ...(commitment ? { commitment } : {}), ...(share ? { share } : {}) } };
  }

  private async take(k: number, incoming: readonly unknown[]): Promise<void> {
    const plan = this.plan(k);
    const into = this.inputs[k - 1]!;
    for (const env of this.accept(incoming, String(k), plan.senders, plan)) {
      if (env.to === BROADCAST) {
        into.broadcast[env.from] = env.payload;
        if (k === 1) this.recordRound1(env);
        continue;
      }
      const statement = await openDirect(this.keys.ageIdentity, env, this.roster[env.from]!.signingPublicKey);
      this.evidence[env.from] = statement;
      into.direct[env.from] = statement.body;
    }
  }

  private async emit(k: number, out: RoundOut): Promise<Envelope[]> {
    const envelopes: Envelope[] = [];
    if (out.broadcast !== undefined) {
      this.inputs[k - 1]!.broadcast[this.name] = out.broadcast;
      envelopes.push(this.broadcast(String(k), out.broadcast));
    }
    for (const [to, body] of Object.entries(out.direct ?? {})) {
      const header = { sessionId: this.sessionId, epoch: this.session.epoch, round: this.roundName(String(k)), from: this.name, to };
      const payload = await sealDirect(this.keys.signingKey, header, body, this.roster[to]!.ageRecipient);
      envelopes.push(this.sign(to, String(k), payload));
    }
    return envelopes;
  }

  private recordRound1(env: Envelope): void {
    this.inputs[0]!.broadcast[env.from] = env.payload;
    this.round1Digests[env.from] = envelopeDigest(env);
    this.round1Envelopes[env.from] = env;
    this.seen.add(envelopeDigest(env));
  }

  // Equivocation: two members hold different round-1 broadcasts from the same sender. The
  // sender is named; the echoing member is recorded too, as its echo is the other half of the claim.
  private compareEcho(env: Envelope): void {
    const theirs = (env.payload as { round1?: unknown } | null)?.round1;
    if (typeof theirs !== 'object' || theirs === null) throw malformed(env.from, 'echo');
    const echoed = theirs as Record<string, unknown>;
    for (const sender of new Set([...Object.keys(this.round1Digests), ...Object.keys(echoed)])) {
      if (echoed[sender] === this.round1Digests[sender]) continue;
      const both = typeof echoed[sender] === 'string' && this.round1Digests[sender] !== undefined;
      const culprit = both ? sender : env.from;
      throw blame(
        'PROTOCOL_ECHO_MISMATCH',
        culprit,
        both
          ? `${sender} sent different round-1 broadcasts: ${env.from} echoes one, ${this.name} received another`
          : `echo from ${env.from} does not list the same round-1 senders as ${this.name} received`,
        { echoFrom: env.from, sender },
      );
    }
  }

  // Checks one round's envelopes, in order: from every expected sender exactly one broadcast
  // and/or one payload addressed to this party, as the round's kinds say. Membership and the
  // signature come first, so nothing unauthenticated can get another party blamed.
  private accept(incoming: readonly unknown[], label: string, senders: readonly string[], kinds: { broadcast: boolean; direct: boolean }): Envelope[] {
    const round = this.roundName(label);
    const expected = senders.filter((s) => s !== this.name);
    const got: Record<string, Envelope> = {};
    const key = (env: Envelope): string => `${env.from}\u0000${env.to === BROADCAST ? BROADCAST : 'direct'}`;
    for (const raw of incoming) {
      const env = checkShape(raw);
      const { from } = env;
      if (!this.members.includes(from)) throw blame('PROTOCOL_NOT_MEMBER', from, `message from ${from}, who is not a member of session ${this.sessionId}`);
      if (!envelopeSignatureValid(this.roster[from]!.signingPublicKey, env)) throw blame('PROTOCOL_BAD_SIGNATURE', from, `signature on the ${env.round} message from ${from} does not verify`);
      if (env.epoch !== this.session.epoch) throw blame('PROTOCOL_WRONG_EPOCH', from, `message from ${from} is for epoch ${env.epoch}, this run is epoch ${this.session.epoch}`);
      if (env.sessionId !== this.sessionId) throw blame('PROTOCOL_WRONG_SESSION', from, `message from ${from} is for session ${env.sessionId}, not ${this.sessionId}`);
      if (this.seen.has(envelopeDigest(env))) throw blame('PROTOCOL_REPLAY', from, `replayed ${env.round} message from ${from}`);
      if (env.round !== round) throw blame('PROTOCOL_WRONG_ROUND', from, `message from ${from} is for round ${env.round}, expected ${round}`);
      if (!expected.includes(from)) throw blame('PROTOCOL_UNEXPECTED_SENDER', from, `${from} does not send in round ${round}`);
      if (got[key(env)]) throw blame('PROTOCOL_REPLAY', from, `second ${round} message from ${from}`);
      const wanted = (env.to === BROADCAST && kinds.broadcast) || (env.to === this.name && kinds.direct);
      if (!wanted) {
        const expectedTo = kinds.direct ? (kinds.broadcast ? `${this.name} or everyone` : this.name) : 'everyone';
        throw blame('PROTOCOL_WRONG_RECIPIENT', from, `${round} message from ${from} is addressed to ${env.to}, not ${expectedTo}`);
      }
      this.seen.add(envelopeDigest(env));
      got[key(env)] = env;
    }
    const missing = expected.filter((s) => (kinds.broadcast && !got[`${s}\u0000${BROADCAST}`]) || (kinds.direct && !got[`${s}\u0000direct`]));
    if (missing.length) throw blame('PROTOCOL_MISSING_MESSAGE', missing[0]!, `no ${round} message from ${missing.join(', ')}`, { missing });
    return Object.values(got);
  }

  private roundName(label: string): string {
    return `${this.rounds.protocol}.${label}`;
  }

  private broadcast(label: string, payload: unknown): Envelope {
    return this.sign(BROADCAST, label, payload);
  }

  private sign(to: string, label: string, payload: unknown): Envelope {
    const env = signEnvelope(this.keys.signingKey, { v: 1, sessionId: this.sessionId, epoch: this.session.epoch, round: this.roundName(label), from: this.name, to, payload });
    this.seen.add(envelopeDigest(env));
    return env;
  }

  private async guarded<T>(step: () => Promise<T> | T): Promise<T> {
    if (this.stage === 'aborted') throw blame('PROTOCOL_ABORTED', this.name, `${this.name}'s run was aborted; start a new session`);
    if (this.busy) throw inputError('PROTOCOL_BUSY', `${this.name} is already processing a round`);
    this.busy = true;
    try {
      return await step();
    } catch (e) {
      this.abort();
      throw e;
    } finally {
      this.busy = false;
    }
  }
}
