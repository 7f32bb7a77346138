import { closeSync, constants, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { canonical } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { fsyncDir } from '../fs/atomic.js';
import type { Workspace } from '../fs/workspace.js';
import { publicOf, type Identity } from '../custody/identity.js';
import { pgpWords } from '../base/pgpwords.js';
import { ceremonyFiles, ceremonyIdOf, lineDigest, nextCeremonyId, readLines, TRANSCRIPT_EXT } from './chain.js';
import { signEnvelope } from '../base/dsse.js';
import { enrolMember, findMember, loadRoster, rosterDigest, type Roster } from '../state/roster.js';
import { genesisRoster } from '../state/fold.js';
import { CHECKLIST_STEP, loadScript, type Script } from './script.js';
import { resolveSigner, signingProblem, type Signer } from './signers.js';
import { makeStatement, type Subject } from './statement.js';
import { readTail, setAsideTorn, type TornInfo } from './torn.js';
import { toolInfo } from './tool.js';

export type { Subject } from './statement.js';

// Writes one ceremony's transcript. The caller holds the workspace lock, so this is the only
// writer; each line is appended whole with one write and fsynced before record() returns.
// Entries are checked against the roster and the script before they are signed, with the same
// rules the verifier applies: a mistake is refused here rather than found by the auditor.

export interface StepInput {
  step: string;
  actor: Identity;
  subjects?: Subject[];
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  cosigners?: Identity[];
}

export interface Sealed {
  head: string; // digest of the seal line: what the witness writes down
  words: string; // the same in PGP words
  genesis: string; // digest of the workspace's first line: the other trust anchor
}

const CLOSING_STEPS = ['ceremony.seal', 'ceremony.abort'];

/** Where a new ceremony links in: the last intact line, and what was left unfinished before it. */
interface Resume {
  prev: string | null;
  interrupted: { ceremony: string; lastSeq: number | null; torn: TornInfo[] } | null;
}

function resume(ws: Workspace): Resume {
  const torn: TornInfo[] = [];
  let emptied: string | undefined; // a ceremony whose only lines were torn
  for (;;) {
    const file = ceremonyFiles(ws.transcriptsDir).at(-1);
    if (!file) return { prev: null, interrupted: null }; // nothing intact: this is genesis
    const tail = readTail(file);
    if (tail.torn) torn.push(setAsideTorn(ws.root, file, tail));
    if (tail.intactBytes === 0) {
      emptied = ceremonyIdOf(file);
      continue;
    }
    if (!tail.last) {
      throw new KeyriteError('TRANSCRIPT_DAMAGED', `${file} ends in damaged lines that are not a torn write; run "keyrite audit verify" before anything else`);
    }
    const closed = CLOSING_STEPS.includes(tail.last.statement.predicate.step);
    const interrupted =
      closed && torn.length === 0
        ? null
        : { ceremony: closed && emptied ? emptied : ceremonyIdOf(file), lastSeq: closed && emptied ? null : tail.last.statement.predicate.seq, torn };
    return { prev: lineDigest(tail.last.line), interrupted };
  }
}

export class Ceremony {
  private seq = 0;
  private closed = false;

  private constructor(
    readonly ws: Workspace,
    readonly id: string,
    readonly script: Script,
    readonly actor: Identity,
    private readonly file: string,
    private prev: string | null,
  ) {}

  /**
   * Opens a ceremony: records ceremony.interrupted first if the previous one never closed, then
   * ceremony.start. While enrolment is open an actor not yet in the roster enrols themself
   * (roster.enrol, right after the start). The very first ceremony (genesis) carries the whole
   * initial roster — the generator and nodes — in its start entry.
   */
  static async start(ws: Workspace, opts: { script: string; actor: Identity; params?: Record<string, unknown> }): Promise<Ceremony> {
    const script = loadScript(opts.script);
    ws.mkdirs(ws.transcriptsDir);
    const { prev, interrupted } = resume(ws);
    const id = nextCeremonyId(ws.transcriptsDir, script.name);
    const c = new Ceremony(ws, id, script, opts.actor, join(ws.transcriptsDir, id + TRANSCRIPT_EXT), prev);
    const roster = loadRoster(ws);
    const newcomer = !findMember(roster, opts.actor.name) && roster.version === 0 && prev !== null;
    const intro = newcomer ? { identity: publicOf(opts.actor) } : {};
    if (interrupted) await c.record({ step: 'ceremony.interrupted', actor: opts.actor, params: { ...interrupted, ...intro } });
    const genesis = prev === null ? { roster: genesisRoster({ roster }) } : {};
    await c.record({ step: 'ceremony.start', actor: opts.actor, params: { ...opts.params, script: script.name, ...intro, ...genesis } });
    if (newcomer) await enrolMember(c, opts.actor);
    return c;
  }

  /** The operator's checklist for `step`, from the script. */
  checklist(step: string): string[] {
    return this.script.steps[step]?.checklist ?? [];
  }

  /** Records that `by` confirmed checklist item `item` of `step` ('prompt': at the terminal; 'yes': by --yes). */
  async confirm(step: string, item: number, by: Identity, how: 'prompt' | 'yes'): Promise<{ seq: number; digest: string }> {
    const text = this.checklist(step)[item];
    if (text === undefined) throw new KeyriteError('INTERNAL', `the ${this.script.name} script has no checklist item ${item} for ${step}`);
    return this.record({ step: CHECKLIST_STEP, actor: by, params: { step, item, text, how } });
  }

  async record(input: StepInput): Promise<{ seq: number; digest: string }> {
    if (this.closed) throw new KeyriteError('INTERNAL', `ceremony ${this.id} is already closed`);
    const roster = loadRoster(this.ws);
    const params = input.params ?? {};
    const signers = [input.actor, ...(input.cosigners ?? [])];
    this.check(roster, input.step, params, signers);
    const statement = makeStatement(input.subjects ?? [], {
      ceremony: this.id,
      seq: this.seq,
      prev: this.prev,
      step: input.step,
      actor: input.actor.name,
      roster: rosterDigest(roster),
      script: this.script.digest,
      tool: toolInfo(),
      params,
      result: input.result ?? {},
      time: new Date().toISOString(),
    });
    const envelope = signEnvelope(Buffer.from(canonical(statement), 'utf8'), signers.map((s) => ({ keyid: publicOf(s).fingerprint, key: s.signing })));
    const line = canonical(envelope);
    this.append(line + '\n');
    const digest = lineDigest(line);
    this.prev = digest;
    if (CLOSING_STEPS.includes(input.step)) this.closed = true;
    return { seq: this.seq++, digest };
  }

  /** Closes the ceremony: ceremony.seal by its actor (first) and the co-signers its script requires. */
  async seal(signers: Identity[]): Promise<Sealed> {
    const [actor, ...cosigners] = signers;
    if (actor?.name !== this.actor.name) throw new KeyriteError('INTERNAL', `ceremony ${this.id} is sealed by its actor ${this.actor.name}, who signs first`);
    const { digest } = await this.record({ step: 'ceremony.seal', actor, cosigners, params: { entries: this.seq + 1 } });
    return { head: digest, words: pgpWords(digest), genesis: this.genesis() };
  }

  /** Closes a ceremony that failed on purpose (refused input, declined confirmation): no seal, no interruption. */
  async abort(reason: { code: string; message: string }): Promise<void> {
    await this.record({ step: 'ceremony.abort', actor: this.actor, result: { code: reason.code, message: reason.message } });
  }

  /** Refuses an entry the verifier would reject: signers not in the roster, wrong role, missing co-signers. */
  private check(roster: Roster, step: string, params: Record<string, unknown>, ids: Identity[]): void {
    let signers: Signer[];
    try {
      signers = ids.map((id) => resolveSigner(roster, step, params, publicOf(id).fingerprint));
    } catch (e) {
      throw new KeyriteError('NOT_ENROLLED', `${step}: ${(e as Error).message}`);
    }
    const problem = signingProblem(this.script, roster, step, params, ids[0]!.name, signers);
    if (problem) throw new KeyriteError('NOT_PERMITTED', `${step} in ceremony ${this.id}: ${problem}`);
  }

  private append(text: string): void {
    const first = this.seq === 0;
    const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (first ? constants.O_EXCL : 0);
    const fd = openSync(this.file, flags, 0o644);
    try {
      const buf = Buffer.from(text, 'utf8');
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (first) fsyncDir(this.ws.transcriptsDir);
  }

  private genesis(): string {
    for (const { bytes } of readLines(ceremonyFiles(this.ws.transcriptsDir)[0]!)) return lineDigest(bytes);
    throw new KeyriteError('INTERNAL', 'the transcript has no first line');
  }
}
