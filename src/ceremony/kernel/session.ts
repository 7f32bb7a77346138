import { KeyriteError } from '../../base/errors.js';
import { withLock } from '../../fs/lock.js';
import type { Workspace } from '../../fs/workspace.js';
import type { Identity } from '../../custody/identity.js';
import { loadState } from '../../audit/state.js';
import { loadScript } from '../../evidence/script.js';
import { Ceremony, type Opening, type Sealed, type StepInput } from '../../evidence/writer.js';
import { checkCaches, writeCaches } from '../../state/cache.js';
import { CustodyState } from '../../state/fold.js';
import type { KeyRecord } from '../../state/key-record.js';
import type { Role } from '../../state/roles.js';
import { member, requireSealed, soleMember, type Roster } from '../../state/roster.js';
import { verdictOf } from './nodes.js';
import type { Operator } from './operator.js';
import { openIdentity, unlockPerson, type IdentityPaths } from './people.js';
import { requireRotated } from '../../state/rotation.js';

// The ceremony kernel (docs/ARCHITECTURE.md, "The kernel"): what every operation shares, in
// order. A session takes the workspace lock, folds the transcript into the custody state every
// decision is made from, unlocks people, collects the operator's confirmations (asked before
// anything is written, so a "no" leaves nothing behind), then opens the ceremony, records the
// confirmations with the exact text shown, runs the operation's steps, and seals it — or, on
// any failure after the start, records ceremony.abort. The caches (roster.json, keys/*.json)
// are rewritten from the fold whatever happened.

export type { IdentityPaths } from './people.js';

interface Answer {
  text: string;
  how: 'prompt' | 'yes';
  step?: string;
  item?: number;
  by?: Identity;
}

export interface SessionOptions {
  ws: Workspace;
  operator: Operator;
  /** What holds the lock, for the operator who finds it held. */
  label: string;
  /** Whether the roster must be sealed (default: yes; enrolment and the seal itself run before). */
  sealed?: boolean;
}

export class Session {
  private readonly answers: Answer[] = [];
  private readonly asked = new Set<string>(); // checklist steps asked so far, by script and step

  constructor(
    readonly ws: Workspace,
    readonly operator: Operator,
    readonly state: CustodyState,
  ) {}

  get roster(): Roster {
    return this.state.requireRoster();
  }

  /** The key as the transcript says it is; an inactive key is refused unless `any` is set. */
  key(keyId: string, o: { any?: boolean } = {}): KeyRecord {
    const r = this.state.key(keyId);
    if (!o.any && r.status !== 'active') throw new KeyriteError('KEY_NOT_ACTIVE', `key ${r.keyId} is ${r.status}; it no longer signs or exports`);
    return r;
  }

  /** Unlocks `name`'s identity, checked against the roster in force. */
  unlock(name: string, role: Role, identities?: IdentityPaths): Promise<Identity> {
    return unlockPerson(this.ws, this.roster, this.operator, name, role, identities?.get(name));
  }

  /** Unlocks `name` if they are here (the operator has their passphrase); null if they are not. */
  async unlockIfPresent(name: string, role: Role, identities?: IdentityPaths): Promise<Identity | null> {
    const expected = member(this.roster, name, role);
    // A custodian here signs a receipt for their shard (export): not while their rotation is due.
    if (role === 'custodian') requireRotated(this.state, name);
    const passphrase = await this.operator.passphraseIfPresent(name);
    return passphrase === null ? null : openIdentity(this.ws, expected, passphrase, identities?.get(name));
  }

  /** Unlocks the roster's generator, or its witness (the one named, else the only one enrolled). */
  unlockSole(role: 'generator' | 'witness', o: { name?: string; identities?: IdentityPaths } = {}): Promise<Identity> {
    return this.unlock(soleMember(this.roster, role, o.name).name, role, o.identities);
  }

  /** Asks `text` now; the answer is recorded, with that exact text, once the ceremony opens. */
  async confirm(text: string, by?: Identity): Promise<void> {
    this.answers.push({ text, how: await this.operator.confirm(text), by });
  }

  /**
   * Asks the script's checklist for `step` now, each item with what it refers to on screen
   * (`context`), to be recorded once the ceremony opens.
   */
  async checklist(script: string, step: string, context?: string, by?: Identity): Promise<void> {
    this.asked.add(`${script} ${step}`);
    for (const [item, text] of (loadScript(script).steps[step]?.checklist ?? []).entries()) {
      const shown = context ? `${text} (${context})` : text;
      this.answers.push({ text: shown, step, item, how: await this.operator.confirm(shown), by });
    }
  }

  /** Inside an open ceremony: asks `input.step`'s checklist, records the answers, then the step. */
  async step(c: Ceremony, input: StepInput): Promise<{ seq: number; digest: string }> {
    for (const [item, text] of c.checklist(input.step).entries()) {
      await c.confirm({ step: input.step, item, text, how: await this.operator.confirm(text) }, input.actor);
    }
    return c.record(input);
  }

  /**
   * Opens the ceremony, records the confirmations collected so far, runs `work`, and seals it
   * (the actor first, then `cosealers`). The script's ceremony.start checklist is asked now
   * unless it was asked already. `first` runs before the confirmations are recorded: the
   * enrolment that lets a newcomer sign them. Any failure after the start is recorded as
   * ceremony.abort before it propagates.
   */
  async run<T>(opening: Omit<Opening, 'state'>, work: (c: Ceremony) => Promise<T>, cosealers: Identity[] = [], first?: (c: Ceremony) => Promise<void>): Promise<T & { sealed: Sealed; ceremony: string }> {
    if (!this.asked.has(`${opening.script} ceremony.start`)) await this.checklist(opening.script, 'ceremony.start');
    const c = await Ceremony.start(this.ws, { ...opening, state: this.state });
    try {
      await first?.(c);
      for (const a of this.answers.splice(0)) await c.confirm(a, a.by ?? opening.actor);
      const result = await work(c);
      const sealed = await c.seal([opening.actor, ...cosealers]);
      return { ...result, sealed, ceremony: c.id };
    } catch (e) {
      const reason = e instanceof KeyriteError ? { code: e.code, message: e.message, ...verdictOf(e) } : { code: 'INTERNAL', message: String((e as Error)?.message ?? e) };
      await c.abort(reason).catch(() => undefined);
      throw e;
    } finally {
      if (this.state.roster) writeCaches(this.ws, this.state);
    }
  }
}

/**
 * Runs `work` in a session: under the workspace lock, with the custody state folded from the
 * transcript (or, for `init`, the empty state of a new workspace).
 */
export function withSession<T>(o: SessionOptions, work: (s: Session) => Promise<T>): Promise<T> {
  return withLock(o.ws.requireExists().root, o.label, async () => {
    const state = await loadState(o.ws);
    if (state.roster) checkCaches(o.ws, state);
    if (o.sealed !== false) requireSealed(state.requireRoster());
    return work(new Session(o.ws, o.operator, state));
  });
}

/** The session of `init`: the workspace is new, so its state is empty until the genesis entry. */
export function withNewWorkspace<T>(o: Omit<SessionOptions, 'sealed'>, work: (s: Session) => Promise<T>): Promise<T> {
  return withLock(o.ws.root, o.label, () => work(new Session(o.ws, o.operator, new CustodyState())));
}
