import { KeyriteError } from '../base/errors.js';
import type { SigningKey } from '../base/ed25519.js';
import { blame, inputError, malformed } from './blame.js';
import {
  BROADCAST, checkShape, envelopeDigest, envelopeSignatureValid, membersOf, openDirect, sealDirect, sessionIdOf, signEnvelope,
  type DirectStatement, type Envelope, type SessionParams,
} from './envelope.js';
import type { Round2Out, Rounds } from './types.js';

// One party's authenticated run of a protocol, one round at a time:
//   start()               → round-1 broadcast (empty for a reshare holder who does not deal)
//   receive(round-1 msgs) → echo: signed digests of every round-1 broadcast seen
//   receive(echo msgs)    → round 2 (broadcast, or sealed point-to-point payloads)
//   receive(round-2 msgs) → []  and result() holds the share or signature
// A node process keeps this object in memory between rounds. Any error aborts the run for good:
// secret round state is wiped, no result is kept, and the error names the party to blame.

export type PartyKeys = { name: string; signingKey: SigningKey; ageIdentity: string };
export type Member = { signingPublicKey: string; ageRecipient: string };
export type Roster = Record<string, Member>;
export type Stage = 'round1' | 'echo' | 'round2' | 'done' | 'aborted';

export class ProtocolParty<Out> {
  readonly sessionId: string;
  readonly members: readonly string[];
  private stage: Stage = 'round1';
  private started = false;
  private busy = false;
  private readonly seen = new Set<string>();
  private readonly round1: Record<string, unknown> = {};
  private readonly round1Digests: Record<string, string> = {};
  private readonly round2: Record<string, unknown> = {};
  private readonly evidence: Record<string, DirectStatement> = {};
  private output: Out | null = null;

  constructor(
    readonly session: SessionParams,
    private readonly keys: PartyKeys,
    private readonly roster: Roster,
    private readonly rounds: Rounds<Out>,
  ) {
    this.sessionId = sessionIdOf(session);
    this.members = membersOf(session);
    const unknown = this.members.filter((m) => !roster[m]);
    if (unknown.length) throw inputError('SESSION_MISMATCH', `session members ${unknown.join(', ')} are not in the roster`);
    if (rounds.me !== keys.name || !this.members.includes(keys.name)) throw inputError('SESSION_MISMATCH', `${keys.name} is not a member of this session`);
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
      const payload = this.rounds.round1();
      if (payload === null) return [];
      const env = this.broadcast('1', payload);
      this.recordRound1(env);
      return [env];
    });
  }

  /** Processes exactly one round's incoming envelopes and returns this party's next messages. */
  receive(incoming: readonly unknown[]): Promise<Envelope[]> {
    return this.guarded(async () => {
      if (!this.started) throw inputError('PROTOCOL_NOT_STARTED', `${this.name} has not started this run`);
      if (this.stage === 'round1') return this.onRound1(incoming);
      if (this.stage === 'echo') return this.onEcho(incoming);
      if (this.stage === 'round2') return this.onRound2(incoming);
      throw inputError('PROTOCOL_DONE', `${this.name}'s run is already ${this.stage}`);
    });
  }

  private onRound1(incoming: readonly unknown[]): Envelope[] {
    for (const env of Object.values(this.accept(incoming, '1', this.rounds.round1Senders, false))) this.recordRound1(env);
    this.stage = 'echo';
    return [this.broadcast('echo', { round1: this.round1Digests })];
  }

  private async onEcho(incoming: readonly unknown[]): Promise<Envelope[]> {
    for (const env of Object.values(this.accept(incoming, 'echo', this.members, false))) this.compareEcho(env);
    const out = this.rounds.round2(this.round1);
    const envelopes = out ? await this.sendRound2(out) : [];
    if (this.rounds.round2Receivers.includes(this.name)) {
      this.stage = 'round2';
    } else {
      this.finish({});
    }
    return envelopes;
  }

  private async onRound2(incoming: readonly unknown[]): Promise<Envelope[]> {
    const direct = this.rounds.round2Direct;
    for (const [from, env] of Object.entries(this.accept(incoming, '2', this.rounds.round2Senders, direct))) {
      if (!direct) {
        this.round2[from] = env.payload;
        continue;
      }
      const statement = await openDirect(this.keys.ageIdentity, env, this.roster[from]!.signingPublicKey);
      this.evidence[from] = statement;
      this.round2[from] = statement.body;
    }
    try {
      this.finish(this.round2);
    } catch (e) {
      // A bad sub-share is provable: attach the dealer's signed statement of what it sent.
      if (e instanceof KeyriteError && e.code === 'PROTOCOL_INVALID_SHARE') e.details.evidence = this.evidence[String(e.party)];
      throw e;
    }
    return [];
  }

  private finish(round2: Record<string, unknown>): void {
    this.output = this.rounds.finish(round2);
    this.rounds.wipe();
    this.stage = 'done';
  }

  private async sendRound2(out: Round2Out): Promise<Envelope[]> {
    if ('broadcast' in out) {
      this.round2[this.name] = out.broadcast;
      return [this.broadcast('2', out.broadcast)];
    }
    const envelopes: Envelope[] = [];
    for (const [to, body] of Object.entries(out.direct)) {
      const header = { sessionId: this.sessionId, epoch: this.session.epoch, round: this.roundName('2'), from: this.name, to };
      const payload = await sealDirect(this.keys.signingKey, header, body, this.roster[to]!.ageRecipient);
      envelopes.push(this.sign(to, '2', payload));
    }
    return envelopes;
  }

  private recordRound1(env: Envelope): void {
    this.round1[env.from] = env.payload;
    this.round1Digests[env.from] = envelopeDigest(env);
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

  // Checks one round's envelopes, in order, and returns them keyed by sender. Membership and the
  // signature come first, so nothing unauthenticated can get another party blamed.
  private accept(incoming: readonly unknown[], label: string, senders: readonly string[], direct: boolean): Record<string, Envelope> {
    const round = this.roundName(label);
    const expected = senders.filter((s) => s !== this.name);
    const got: Record<string, Envelope> = {};
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
      if (got[from]) throw blame('PROTOCOL_REPLAY', from, `second ${round} message from ${from}`);
      if (env.to !== (direct ? this.name : BROADCAST)) throw blame('PROTOCOL_WRONG_RECIPIENT', from, `${round} message from ${from} is addressed to ${env.to}, not ${direct ? this.name : 'everyone'}`);
      this.seen.add(envelopeDigest(env));
      got[from] = env;
    }
    const missing = expected.filter((s) => !got[s]);
    if (missing.length) throw blame('PROTOCOL_MISSING_MESSAGE', missing[0]!, `no ${round} message from ${missing.join(', ')}`, { missing });
    return got;
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
