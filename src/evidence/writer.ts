import { join } from 'node:path';
import { canonical } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { faultPoint } from '../base/fault.js';
import { appendDurably } from '../fs/atomic.js';
import type { Workspace } from '../fs/workspace.js';
import { publicOf, type Identity } from '../custody/identity.js';
import { ceremonyFiles, ceremonyIdOf, lineDigest, nextCeremonyId, NotRegularFile, readLines, TRANSCRIPT_EXT } from './chain.js';
import { pae, PAYLOAD_TYPE, type Envelope } from '../base/dsse.js';
import { verifyRaw } from '../base/ed25519.js';
import { genesisRoster, prepare, type CustodyState } from '../state/fold.js';
import type { PublicIdentity } from '../state/identity.js';
import { member, rosterDigest, type Roster } from '../state/roster.js';
import { entryStatement, readEntry, signStatement, type EntryDraft } from './entry.js';
import { foldEntryOf } from './fold-entry.js';
import { CHECKLIST_STEP, loadScript, type Script } from './script.js';
import { resolveSigner, signingProblem, type Signer } from './signers.js';
import type { Statement, Subject } from './statement.js';
import { readTail, setAsideTorn, type TornInfo } from './torn.js';

export type { Subject } from './statement.js';

// Writes one ceremony's transcript. The caller holds the workspace lock, so this is the only
// writer; each line is appended whole with one write and fsynced before record() returns.
// Entries are checked against the roster and the script before they are signed, and against
// the custody state's fold before they are appended, with the same rules the verifier applies:
// a mistake is refused here rather than found by the auditor. The state is the one the
// ceremony decided from, and moves on with every entry recorded.

export interface StepInput {
  step: string;
  actor: Identity;
  subjects?: Subject[];
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  cosigners?: Identity[];
}

export interface Sealed {
  ceremony: string; // the ceremony's id, which the witness writes beside its head
  head: string; // digest of the seal line: what the witness writes down (as its checkpoint)
  genesis: string; // digest of the workspace's first line: the other trust anchor
}

const CLOSING_STEPS = ['ceremony.seal', 'ceremony.abort'];

/** Why a ceremony aborted; a node's fault is a proved `blame` or an unverified `claim` (docs/ARCHITECTURE.md §5, "Blame"). */
export interface AbortReason {
  code: string;
  message: string;
  blame?: object;
  claim?: object;
}

/** Where a new ceremony links in: the last intact line, and what was left unfinished before it. */
interface Resume {
  prev: string | null;
  interrupted: { ceremony: string; lastSeq: number | null; torn: TornInfo[] } | null;
}

function resume(ws: Workspace): Resume {
  const torn: TornInfo[] = [];
  let emptied: string | undefined; // a ceremony whose only lines were torn: its file is kept, empty
  for (const file of ceremonyFiles(ws.transcriptsDir).reverse()) {
    const name = ws.relative(file);
    let tail: ReturnType<typeof readTail>;
    try {
      tail = readTail(file);
    } catch (e) {
      if (e instanceof NotRegularFile) throw new KeyriteError('DAMAGED_FILE', `${name} is ${e.message}, not a regular transcript file; nothing was changed`, { cause: e });
      throw e;
    }
    // Damage is refused before anything is set aside: only a final fragment without its newline is a crash's.
    if (tail.damaged) throw new KeyriteError('TRANSCRIPT_DAMAGED', `${name} ${tail.damaged}; that is not a torn write, and nothing was changed`);
    if (tail.torn || tail.intactBytes === 0) torn.push(setAsideTorn(ws.root, file, tail));
    if (tail.intactBytes === 0) {
      emptied = ceremonyIdOf(file);
      continue;
    }
    const closed = CLOSING_STEPS.includes(tail.last!.statement.predicate.step);
    const interrupted =
      closed && torn.length === 0
        ? null
        : { ceremony: closed && emptied ? emptied : ceremonyIdOf(file), lastSeq: closed && emptied ? null : tail.last!.statement.predicate.seq, torn };
    return { prev: lineDigest(tail.last!.line), interrupted };
  }
  return { prev: null, interrupted: null }; // nothing intact: this is genesis
}

/** What opens a ceremony. */
export interface Opening {
  script: string;
  actor: Identity;
  /** The custody state the ceremony decided from: the workspace's fold (audit/state.ts). */
  state: CustodyState;
  params?: Record<string, unknown>;
  /** An identity the ceremony brings into the open roster, which signs its opening entries (enrolment). */
  introduce?: PublicIdentity;
  /** The workspace's first roster, carried whole by its first entry (init only). */
  genesis?: Roster;
}

export class Ceremony {
  private seq = 0;
  private closed = false;

  private constructor(
    readonly ws: Workspace,
    readonly id: string,
    readonly script: Script,
    readonly actor: Identity,
    readonly state: CustodyState,
    private readonly file: string,
    private prev: string | null,
  ) {}

  /**
   * Opens a ceremony: records ceremony.interrupted first if the previous one never closed, then
   * ceremony.start. While enrolment is open an actor not yet in the roster enrols themself
   * (roster.enrol, right after the start). The very first ceremony (genesis) carries the whole
   * initial roster — the generator and nodes — in its start entry.
   */
  static async start(ws: Workspace, opts: Opening): Promise<Ceremony> {
    const script = loadScript(opts.script);
    ws.mkdirs(ws.transcriptsDir);
    const { prev, interrupted } = resume(ws);
    if ((prev === null) !== (opts.genesis !== undefined)) {
      throw new KeyriteError('INTERNAL', prev === null ? 'the first ceremony of a workspace must carry its genesis roster' : 'only the first ceremony carries a genesis roster');
    }
    const id = nextCeremonyId(ws.transcriptsDir, script.name);
    const c = new Ceremony(ws, id, script, opts.actor, opts.state, join(ws.transcriptsDir, id + TRANSCRIPT_EXT), prev);
    const intro = opts.introduce ? { identity: opts.introduce } : {};
    if (interrupted) await c.record({ step: 'ceremony.interrupted', actor: opts.actor, params: { ...interrupted, ...intro } });
    const genesis = opts.genesis ? { roster: opts.genesis } : {};
    await c.record({ step: 'ceremony.start', actor: opts.actor, params: { ...opts.params, script: script.name, ...intro, ...genesis } });
    return c;
  }

  /** The operator's checklist for `step`, from the script. */
  checklist(step: string): string[] {
    return this.script.steps[step]?.checklist ?? [];
  }

  /**
   * Records that `by` confirmed `text`, exactly as it was shown ('prompt': at the terminal; 'yes':
   * by --yes), and, for a checklist item, which item of which step it was.
   */
  async confirm(a: { text: string; how: 'prompt' | 'yes'; step?: string; item?: number }, by: Identity): Promise<{ seq: number; digest: string }> {
    if (a.step !== undefined && a.item !== undefined && this.checklist(a.step)[a.item] === undefined) {
      throw new KeyriteError('INTERNAL', `the ${this.script.name} script has no checklist item ${a.item} for ${a.step}`);
    }
    const params = { ...(a.step !== undefined ? { step: a.step, item: a.item } : {}), text: a.text, how: a.how };
    return this.record({ step: CHECKLIST_STEP, actor: by, params });
  }

  /** Where the next entry goes in the chain: for a node that signs its own entry. */
  draft(): EntryDraft {
    this.requireOpen();
    const roster = this.state.requireRoster();
    return { ceremony: this.id, seq: this.seq, prev: this.prev, roster: rosterDigest(roster), script: this.script.digest };
  }

  async record(input: StepInput): Promise<{ seq: number; digest: string }> {
    this.requireOpen();
    const params = input.params ?? {};
    const roster = this.state.roster ?? genesisRoster(params);
    const signers = [input.actor, ...(input.cosigners ?? [])];
    this.check(roster, input.step, params, signers.map((id) => publicOf(id).fingerprint), input.actor.name);
    const draft = { ceremony: this.id, seq: this.seq, prev: this.prev, roster: rosterDigest(roster), script: this.script.digest };
    const statement = entryStatement(draft, input.actor.name, input);
    return this.appendEntry(statement, signStatement(statement, signers));
  }

  /**
   * Appends an entry a node made from draft() and signed itself, after checking that it is the
   * entry asked for: that draft, that step, by `node`, signed by `node`'s key in the roster, and
   * saying what `check` expects (null: it does; else why not) — all before anything is written.
   */
  async recordSigned(value: unknown, expect: { node: string; step: string; check?: (s: Statement) => string | null }): Promise<{ seq: number; digest: string; statement: Statement }> {
    const refuse = (code: 'WRONG_NODE' | 'BAD_SIGNATURE', why: string) =>
      new KeyriteError(code, `node ${expect.node}'s ${expect.step} entry is refused and not recorded: ${why}`, { node: expect.node });
    let entry: ReturnType<typeof readEntry>;
    try {
      entry = readEntry(value);
    } catch (e) {
      throw refuse('BAD_SIGNATURE', (e as Error).message);
    }
    const { envelope, statement } = entry;
    const p = statement.predicate;
    const draft = this.draft();
    if (p.step !== expect.step || p.actor !== expect.node) throw refuse('WRONG_NODE', `it is ${p.actor}'s ${p.step}`);
    const placed = (Object.keys(draft) as (keyof EntryDraft)[]).find((k) => p[k] !== draft[k]);
    if (placed) throw refuse('WRONG_NODE', `its ${placed} is not the one asked for`);
    const roster = this.state.requireRoster();
    const node = member(roster, expect.node, 'node');
    const message = pae(PAYLOAD_TYPE, Buffer.from(envelope.payload, 'base64'));
    const [sig, ...more] = envelope.signatures;
    if (!sig || more.length || sig.keyid !== node.fingerprint || !verifyRaw(node.signingKey, message, Buffer.from(sig.sig, 'base64'))) {
      throw refuse('BAD_SIGNATURE', `it is not signed by ${expect.node}'s key in the roster alone; check that the node serving as ${expect.node} is the enrolled one`);
    }
    this.check(roster, p.step, p.params, [sig.keyid], p.actor);
    const wrong = expect.check?.(statement);
    if (wrong) throw refuse('WRONG_NODE', wrong);
    return { ...(await this.appendEntry(statement, envelope)), statement };
  }

  private async appendEntry(statement: Statement, envelope: Envelope): Promise<{ seq: number; digest: string }> {
    const step = statement.predicate.step;
    // The fold refuses what the verifier would; its change is kept only once the line is durable.
    const commit = this.refuse(() => prepare(this.state, foldEntryOf(statement, this.script)), step);
    const line = canonical(envelope);
    try {
      this.append(line + '\n');
    } catch (e) {
      // The line may be on disk in part or whole: nothing more is written here; the next
      // command finds the tail and records the interruption (resume).
      this.closed = true;
      throw e;
    }
    faultPoint(step); // a crash test's step boundary: the line is durable, nothing after it is (base/fault.ts)
    commit();
    const digest = lineDigest(line);
    this.state.chained(digest);
    this.prev = digest;
    if (CLOSING_STEPS.includes(step)) this.closed = true;
    return { seq: this.seq++, digest };
  }

  private requireOpen(): void {
    if (this.closed) throw new KeyriteError('INTERNAL', `ceremony ${this.id} is already closed`);
  }

  /** Closes the ceremony: ceremony.seal by its actor (first) and the co-signers its script requires. */
  async seal(signers: Identity[]): Promise<Sealed> {
    const [actor, ...cosigners] = signers;
    if (actor?.name !== this.actor.name) throw new KeyriteError('INTERNAL', `ceremony ${this.id} is sealed by its actor ${this.actor.name}, who signs first`);
    const { digest } = await this.record({ step: 'ceremony.seal', actor, cosigners, params: { entries: this.seq + 1 } });
    return { ceremony: this.id, head: digest, genesis: this.genesis() };
  }

  /** Closes a ceremony that failed on purpose (refused input, declined confirmation): no seal, no interruption. */
  async abort(reason: AbortReason): Promise<void> {
    const { code, message, blame, claim } = reason;
    await this.record({ step: 'ceremony.abort', actor: this.actor, result: { code, message, ...(blame ? { blame } : {}), ...(claim ? { claim } : {}) } });
  }

  /** Refuses an entry the verifier would reject: signers not in the roster, wrong role, missing co-signers. */
  private check(roster: Roster, step: string, params: Record<string, unknown>, keyids: string[], actor: string): void {
    let signers: Signer[];
    try {
      signers = keyids.map((keyid) => resolveSigner(roster, step, params, keyid));
    } catch (e) {
      throw new KeyriteError('NOT_ENROLLED', `${step}: ${(e as Error).message}`, { cause: e });
    }
    const problem = signingProblem(this.script, roster, step, params, actor, signers);
    if (problem) throw new KeyriteError('NOT_PERMITTED', `${step} in ceremony ${this.id}: ${problem}`);
  }

  private refuse<T>(f: () => T, step: string): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof KeyriteError) throw new KeyriteError(e.code, `${step} in ceremony ${this.id}: ${e.message}`, { cause: e });
      throw e;
    }
  }

  private append(text: string): void {
    // The first line creates the ceremony's file, which must not exist yet.
    appendDurably(this.file, text, { mode: 0o644, exclusive: this.seq === 0 });
  }

  private genesis(): string {
    // The first line of the first transcript that has one (an emptied file is kept, empty).
    for (const file of ceremonyFiles(this.ws.transcriptsDir)) for (const { bytes } of readLines(file)) return lineDigest(bytes);
    throw new KeyriteError('INTERNAL', 'the transcript has no first line');
  }
}
