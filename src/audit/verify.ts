import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { sha256Hex } from '../base/canonical.js';
import { KeyriteError, shown, type ErrorCode } from '../base/errors.js';
import { checkpointWords } from '../base/pgpwords.js';
import { readBytes, Workspace } from '../fs/workspace.js';
import { shardPath } from '../custody/shard.js';
import { artifactOf, type Artifact } from '../state/artifacts.js';
import { apply, CustodyState } from '../state/fold.js';
import { snapshotOf, stateFrom } from '../state/snapshot.js';
import type { PublicIdentity } from '../state/identity.js';
import { rosterBytes } from '../state/cache.js';
import { byCeremonyOrder, ceremonyIdOf, lineDigest, LineTooLong, NotRegularFile, readLines, TORN_EXT } from '../evidence/chain.js';
import { pae, parseLine, PAYLOAD_TYPE, type Envelope } from '../base/dsse.js';
import { Verifier as Ed25519Verifier } from '../base/ed25519.js';
import { abortProblem } from './blame-rules.js';
import { CeremonyPolicy } from './policy.js';
import { scriptsByDigest, type Script } from '../evidence/script.js';
import { resolveSigner, signingProblem, type Signer } from '../evidence/signers.js';
import { foldEntryOf } from '../evidence/fold-entry.js';
import { artifactsOf, parseStatement, type Statement } from '../evidence/statement.js';
import { parseReceipt, receiptSignedBy, type SignReceipt } from '../evidence/receipt.js';

// audit verify: reads every transcript line once, in order, holding only the roster in force,
// the open ceremony's policy state and the last digest, so memory stays flat however long the
// history. Each line is checked for: envelope and statement form, signatures by keys in the
// roster in that role at that point, seq and prev (order, deletions, splices), the roster
// digest it claims, a known ceremony script that allows the step. Then the ceremony's policy,
// the links between ceremonies, the witnessed genesis and head (the head must be the last line),
// the witnessed checkpoints (each an earlier head: it must be some line of the chain), the
// signers' receipts (their ceremony and seal must be in the chain), and artifacts on disk. Every
// entry that checks out is applied to the custody state (src/state/fold.ts) exactly as the
// writer applied it, so the verifier ends holding the state the history yields.

/** What kind of rule a failure breaks: tests assert kinds, the report groups by them. */
export type FailureKind =
  | 'form' // not a DSSE envelope of an in-toto statement of a keyrite step, not canonical, too long, not a regular file
  | 'chain' // seq, prev or ceremony id out of order: a line removed, inserted or reordered
  | 'signature' // a signature by no one in the roster in force, or one that does not verify
  | 'roster' // the entry claims another roster than the one in force
  | 'script' // an unknown script, or a step or signer the script does not allow
  | 'transition' // a custody change the fold refuses (roster, key record, guardian set, approval, an artifact the step's script does not let it name, create or replace)
  | 'policy' // a ceremony rule: opening, seal, approvals, node attestations, newcomers
  | 'unclosed' // a ceremony never sealed or aborted
  | 'torn' // a last line without its newline: a crash mid-append
  | 'empty' // no transcript, or an empty one
  | 'anchor' // the witnessed genesis, head or a checkpoint, or a signer's receipt, does not match the chain
  | 'artifact' // a file on disk differs from the digest the transcript records
  | 'cache'; // roster.json differs from the roster the transcript folds to

export interface Failure {
  file: string;
  line: number; // 1-based; 0 for a file-level failure
  kind: FailureKind;
  reason: string;
  /** The error code of the rule broken, where it has one (the fold's refusal, a policy rule's): tests and reports can tell QUORUM_NOT_MET from RECEIPT_MISSING. */
  code?: ErrorCode;
}

interface Problem {
  kind: FailureKind;
  reason: string;
  code?: ErrorCode;
}

/**
 * A ceremony a crash cut short, as the next ceremony recorded it (ceremony.interrupted as its
 * first entry): the evidence stops at its last intact line, and what only its end would have
 * shown is listed here rather than failed (CEREMONY.md, "After a crash").
 */
export interface Interruption {
  ceremony: string;
  /** Its last intact entry; null when its only line was torn. */
  lastSeq: number | null;
  /** The .torn files its torn tail was set aside in, relative to the workspace. */
  torn: string[];
  /** The ceremony.interrupted entry that records it. */
  recordedBy: { file: string; line: number };
  /** What the rest of the ceremony would have shown (policy.ts, owed): a node's attestation never made. */
  owed: { line: number; reason: string }[];
}

export interface SignatureView {
  keyid: string;
  name: string | undefined;
  role: string | undefined;
  ok: boolean;
}

/** One verified line, for `audit show`. */
export interface EntryView {
  file: string;
  line: number;
  digest: string;
  statement: Statement | undefined; // undefined when the line does not parse
  signatures: SignatureView[];
  failures: Problem[];
}

export interface VerifyOptions {
  files: string[]; // every transcript of the chain, in any order (sorted by ceremony number)
  root?: string; // workspace root: artifacts are checked against it, file names shown relative to it
  rosterFile?: string; // the workspace roster, which must equal the replayed one
  // Each witnessed digest is the full sha256 in hex, or a checkpoint: its first 64 bits (16 hex
  // digits, written as 8 PGP words; CEREMONY.md "Witness"), matched as a prefix of the digest the chain holds.
  genesis?: string; // witnessed digest of the first line
  head?: string; // witnessed digest of the last line
  /** Witnessed earlier heads: a full digest must be some line of the chain, a checkpoint the head of some ceremony in it. */
  checkpoints?: string[];
  /** Signing receipt files (evidence/receipt.ts): each one's ceremony and seal must be in the chain. */
  receipts?: string[];
  onEntry?: (e: EntryView) => void;
  /** Stop at the first failure of one of these kinds, throwing it (loading state for a ceremony). */
  stopOn?: readonly FailureKind[];
  /** Check artifacts on disk against their recorded digests (default true; needs `root`). */
  artifacts?: boolean;
  maxFailures?: number; // failures kept in the result (the count is always exact); default 1000
  /** Go on from a remembered verification of the leading files (src/audit/memo.ts); loading state only. */
  resume?: Resume;
}

export interface FileMark {
  name: string;
  size: number;
  sha256: string;
}

/**
 * Where a verification of the first `files` transcripts (in ceremony order) ended: each of them
 * closed, nothing failed, so the next line is checked exactly as if they had just been read.
 */
export interface Resume {
  files: number;
  marks: FileMark[]; // the bytes read of each of those files, to tell whether they are still the same

  state: Uint8Array; // snapshotOf the custody state (src/state/snapshot.ts)
  genesis: string | null;
  prev: string | null;
  entries: number;
  ceremonies: number;
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  ceremonies: number;
  genesis: string | null;
  head: string | null;
  failures: Failure[];
  failureCount: number;
  /** Every ceremony recorded as interrupted, in chain order. */
  interrupted: Interruption[];
  /** Each witnessed checkpoint met in the chain: the line it matched and the ceremony of that line. */
  checkpoints: CheckpointMatch[];
}

export interface CheckpointMatch {
  checkpoint: string; // as given: 16 or 64 hex digits
  digest: string; // the full digest of the line it matched
  ceremony: string;
}

/** A checkpoint is the first 64 bits of a digest; a full digest is all 256. */
const CHECKPOINT_HEX = 16;

function matches(witnessed: string | undefined, digest: string | null): boolean {
  return witnessed === undefined || (digest !== null && digest.startsWith(witnessed) && witnessed.length >= CHECKPOINT_HEX);
}

/** Lines between returns to the event loop, so a spinner (or a memory sampler) keeps running. */
const YIELD_EVERY = 2048;

/** A receipt is a few hundred bytes; anything much larger is not one, and is not read. */
const MAX_RECEIPT_BYTES = 64 << 10;

/** What a receipt's ceremony showed in the chain: its seal lines (digest → who sealed it, and whether the line verified), its sign.result. */
interface ReceiptWitness {
  seen: boolean;
  seals: Map<string, { actor: PublicIdentity | undefined; ok: boolean }>;
  result: { keyId: unknown; epoch: unknown; messageDigest: unknown } | undefined;
}

interface CeremonyState {
  id: string;
  file: string;
  script: Script | undefined;
  policy: CeremonyPolicy | undefined;
  seq: number;
  lastLine: number;
  /** Set once it ends without closing: what only its end would have shown. */
  owed?: { line: number; reason: string }[];
}

export class Verifier {
  readonly state: CustodyState;
  private prev: string | null = null; // digest of the last line read
  private genesis: string | null = null;
  private entries = 0;
  private ceremonies = 0;
  private resumeAt: Resume | undefined;
  private readonly marks: FileMark[];
  private current: CeremonyState | undefined;
  private unclosed: CeremonyState | undefined; // the previous ceremony, if it never closed
  private readonly checker = new Ed25519Verifier();
  private readonly scripts = scriptsByDigest();
  private readonly failures: Failure[] = [];
  private readonly interrupted: Interruption[] = [];
  private failureCount = 0;
  private readonly files: string[];
  private readonly artifactLines = new Map<string, { file: string; line: number }>(); // where each artifact's digest on record was recorded
  private last = { file: '', line: 0 };
  /**
   * Empty transcripts awaiting their record. The writer never removes a ceremony's file: one
   * whose only line was torn is kept, empty, beside its .torn file (evidence/torn.ts). Emptiness
   * is accepted only in that recorded case — the next ceremony opens with ceremony.interrupted,
   * signed by its actor, listing the .torn file — rather than by writing a placeholder line into
   * the emptied file, which nobody present at the crash could have signed.
   */
  private emptied: string[] = [];

  private readonly checkpoints: Set<string>; // witnessed digests not yet met in the chain
  private readonly matched: CheckpointMatch[] = [];
  private readonly receipts: { file: string; receipt: SignReceipt }[] = [];
  private readonly receiptCeremonies = new Map<string, ReceiptWitness>();
  private lineActor: PublicIdentity | undefined; // the current line's first valid signer

  constructor(private readonly opts: VerifyOptions) {
    this.files = byCeremonyOrder(opts.files);
    this.checkpoints = new Set(opts.checkpoints ?? []);
    const r = opts.resume;
    // The artifact and receipt checks need every line's place, which a Resume does not keep.
    if (r && (opts.artifacts !== false || opts.receipts?.length || opts.checkpoints?.length)) throw new Error('a Resume is for loading state only');
    this.state = r ? stateFrom(r.state) : new CustodyState();
    this.marks = r ? [...r.marks] : [];
    if (r) ({ genesis: this.genesis, prev: this.prev, entries: this.entries, ceremonies: this.ceremonies } = r);
  }

  /**
   * The latest point a later load may resume from: after the last file if its ceremony closed,
   * else before it (a crash leaves the last ceremony open); undefined when something failed.
   */
  get resumable(): Resume | undefined {
    return this.resumeAt;
  }

  private takeResume(files: number): void {
    this.resumeAt = { files, marks: this.marks.slice(0, files), state: snapshotOf(this.state), genesis: this.genesis, prev: this.prev, entries: this.entries, ceremonies: this.ceremonies };
  }

  /** Reads the receipts given; one that is not a receipt is a failure of its own. */
  private readReceipts(): void {
    for (const file of this.opts.receipts ?? []) {
      try {
        const receipt = parseReceipt(readBytes(file, 'the receipt', MAX_RECEIPT_BYTES).toString('utf8'));
        this.receipts.push({ file, receipt });
        this.receiptCeremonies.set(receipt.ceremony, { seen: false, seals: new Map(), result: undefined });
      } catch (e) {
        // The reader's own refusal (missing, not a regular file, too large) says what is wrong with the file.
        this.fail(file, 0, 'anchor', e instanceof KeyriteError ? e.message : `the receipt is not a signing receipt: ${(e as Error).message}`);
      }
    }
  }

  async run(): Promise<VerifyResult> {
    this.readReceipts();
    const from = this.opts.resume?.files ?? 0;
    for (const [i, file] of this.files.entries()) {
      if (i < from) continue;
      // Before the last file, in case its ceremony is the one still open.
      if (i === this.files.length - 1 && i > from) this.closeCeremony(i);
      await this.verifyFile(file);
    }
    this.closeCeremony(this.files.length);
    this.checkEnd();
    return {
      ok: this.failureCount === 0,
      entries: this.entries,
      ceremonies: this.ceremonies,
      genesis: this.genesis,
      head: this.prev,
      failures: this.failures,
      failureCount: this.failureCount,
      interrupted: this.interrupted,
      checkpoints: this.matched,
    };
  }

  private name(file: string): string {
    return this.opts.root && !relative(this.opts.root, file).startsWith('..') ? relative(this.opts.root, file) : file;
  }

  private fail(file: string, line: number, kind: FailureKind, reason: string, code?: ErrorCode): void {
    if (this.opts.stopOn?.includes(kind)) {
      throw new KeyriteError('TRANSCRIPT_DAMAGED', `${this.name(file)}:${line}: ${reason}; nothing is decided from a history that does not verify`);
    }
    this.failureCount++;
    if (this.failures.length < (this.opts.maxFailures ?? 1000)) this.failures.push({ file: this.name(file), line, kind, reason, ...(code ? { code } : {}) });
  }

  private async verifyFile(file: string): Promise<void> {
    this.closeCeremony();
    this.ceremonies++;
    this.current = { id: ceremonyIdOf(file), file, script: undefined, policy: undefined, seq: 0, lastLine: 0 };
    let n = 0;
    const read = { hash: createHash('sha256'), size: 0 };
    try {
      for (const { bytes, complete } of readLines(file)) {
        n++;
        read.hash.update(bytes).update(complete ? '\n' : '');
        read.size += bytes.length + (complete ? 1 : 0);
        if (this.entries % YIELD_EVERY === YIELD_EVERY - 1) await new Promise(setImmediate);
        if (complete) this.verifyLine(file, n, bytes);
        else this.fail(file, n, 'torn', 'truncated last line (a torn write: the next keyrite command sets it aside and records ceremony.interrupted)');
      }
    } catch (e) {
      // The rest of such a file is not read: there is no line boundary to resynchronise on.
      if (e instanceof LineTooLong) return this.fail(file, e.line, 'form', `${e.message}; the rest of the file is not read`);
      if (e instanceof NotRegularFile) return this.fail(file, 0, 'form', `the transcript is ${e.message}`);
      throw e;
    }
    if (n === 0) this.emptied.push(file);
    this.marks.push({ name: basename(file), size: read.size, sha256: read.hash.digest('hex') });
  }

  private verifyLine(file: string, line: number, bytes: Buffer): void {
    this.entries++;
    const digest = lineDigest(bytes);
    const text = bytes.toString('utf8');
    const problems: Problem[] = [];
    let envelope: Envelope | undefined;
    let statement: Statement | undefined;
    let payload: Buffer | undefined;
    try {
      envelope = parseLine(text);
      payload = Buffer.from(envelope.payload, 'base64');
      statement = parseStatement(payload);
    } catch (e) {
      problems.push({ kind: 'form', reason: `not a keyrite entry: ${(e as Error).message}` });
    }
    let signatures: SignatureView[] = [];
    this.lineActor = undefined;
    if (envelope && statement && payload) signatures = this.checkEntry(file, line, digest, envelope, payload, statement, problems);
    if (this.checkpoints.size > 0) this.meetCheckpoints(digest, statement?.predicate.step === 'ceremony.seal');
    if (statement) this.witness(statement, digest, problems.length === 0);
    // Resynchronise on this line whatever happened, so one bad line yields one failure, not a cascade.
    this.prev = digest;
    this.state.chained(digest);
    this.current!.seq = (statement?.predicate.seq ?? this.current!.seq) + 1;
    this.current!.lastLine = line;
    this.last = { file, line };
    if (line === 1) this.checkEmptied(statement);
    for (const p of problems) this.fail(file, line, p.kind, p.reason, p.code);
    this.opts.onEntry?.({ file: this.name(file), line, digest, statement, signatures, failures: problems });
  }

  private checkEntry(file: string, line: number, digest: string, env: Envelope, payload: Buffer, s: Statement, problems: Problem[]): SignatureView[] {
    const p = s.predicate;
    this.checkChain(line, p.ceremony, p.seq, p.prev, digest, problems);
    const script = this.scriptOf(p.script, line, problems);
    // The genesis entry carries the roster that its own signature is checked against.
    const genesis = this.genesis === digest && !this.state.roster ? this.applyEntry(s, script, problems, line) : false;
    const roster = this.state.roster;
    if (!roster) {
      problems.push({ kind: 'chain', reason: 'no roster in force: the chain does not start with a genesis ceremony.start' });
      return env.signatures.map((sig) => ({ keyid: sig.keyid, name: undefined, role: undefined, ok: false }));
    }
    if (p.roster !== this.state.rosterDigest) {
      problems.push({ kind: 'roster', reason: `claims roster ${p.roster.slice(0, 16)}…, but roster version ${roster.version} in force is ${this.state.rosterDigest.slice(0, 16)}…` });
    }

    const message = pae(PAYLOAD_TYPE, payload);
    const signers: (Signer | undefined)[] = [];
    const views = env.signatures.map((sig, i) => {
      let signer: Signer | undefined;
      try {
        signer = resolveSigner(roster, p.step, p.params, sig.keyid);
      } catch (e) {
        problems.push({ kind: 'signature', reason: `signature ${i + 1}: ${(e as Error).message}` });
      }
      const ok = signer !== undefined && this.checker.check(signer.identity.signingKey, message, Buffer.from(sig.sig, 'base64'));
      if (signer && !ok) problems.push({ kind: 'signature', reason: `signature ${i + 1} (${signer.identity.name}, ${sig.keyid}) does not verify` });
      signers.push(ok ? signer : undefined);
      return { keyid: sig.keyid, name: signer?.identity.name, role: signer?.identity.role, ok };
    });
    const valid = signers.filter((x): x is Signer => x !== undefined);
    const signedOk = valid.length === signers.length;
    this.lineActor = signers[0]?.identity;
    if (script && signedOk) {
      const problem = signingProblem(script, roster, p.step, p.params, p.actor, valid);
      if (problem) problems.push({ kind: 'script', reason: problem });
    }
    this.observe(line, s, signers[0], problems);
    if (signedOk && problems.length === 0 && !genesis) this.applyEntry(s, script, problems, line);
    return views;
  }

  /** Notes what a receipt's ceremony shows: that it is in the chain, its seals, its result. */
  private witness(s: Statement, digest: string, ok: boolean): void {
    const p = s.predicate;
    const w = this.receiptCeremonies.get(p.ceremony);
    if (!w || p.ceremony !== this.current!.id) return;
    w.seen = true;
    if (p.step === 'ceremony.seal') w.seals.set(digest, { actor: this.lineActor, ok });
    if (p.step === 'sign.result') w.result = { keyId: p.params.keyId, epoch: p.params.epoch, messageDigest: p.params.messageDigest };
  }

  /**
   * Folds an entry that checked out into the custody state; true when the fold accepted it. The
   * fold refuses an artifact the step's script does not let it name, create or replace
   * (src/state/artifacts.ts): that is a transition failure, and the digest on record stays.
   */
  private applyEntry(s: Statement, script: Script | undefined, problems: Problem[], line: number): boolean {
    try {
      const named = artifactsOf(s);
      const before = named.map((a) => this.state.artifacts.get(a.name));
      apply(this.state, foldEntryOf(s, script));
      // A check (the same digest again) leaves the record, and so the line that set it, as it was.
      named.forEach((a, i) => {
        if (this.state.artifacts.get(a.name) !== before[i]) this.artifactLines.set(a.name, { file: this.current!.file, line });
      });
      return true;
    } catch (e) {
      problems.push({ kind: 'transition', reason: (e as Error).message, ...(e instanceof KeyriteError ? { code: e.code } : {}) });
      return false;
    }
  }

  private checkChain(line: number, ceremony: string, seq: number, prev: string | null, digest: string, problems: Problem[]): void {
    const c = this.current!;
    if (line === 1 && this.entries === 1) this.genesis = digest;
    const chain = (reason: string) => problems.push({ kind: 'chain', reason });
    if (ceremony !== c.id) chain(`entry belongs to ceremony ${ceremony}, not ${c.id}`);
    if (seq !== c.seq) chain(`seq ${seq} where ${c.seq} was expected (a line was removed, reordered or inserted)`);
    if (prev !== this.prev) {
      const what = this.prev === null ? 'the genesis line names no previous line' : line === 1 ? 'the head of the previous ceremony' : 'the previous line';
      chain(`prev ${prev?.slice(0, 16) ?? 'null'}… does not match ${what}${this.prev ? ` (${this.prev.slice(0, 16)}…)` : ''}`);
    }
  }

  private scriptOf(digest: string, line: number, problems: Problem[]): Script | undefined {
    const c = this.current!;
    const script = this.scripts.get(digest);
    if (!script) problems.push({ kind: 'script', reason: `unknown ceremony script ${digest.slice(0, 16)}… (not one keyrite ships)` });
    else if (c.script && c.script !== script) problems.push({ kind: 'script', reason: `script ${script.name} differs from the ceremony's script ${c.script.name}` });
    else if (!c.script && line <= 2) c.script = script;
    return script;
  }

  private observe(line: number, s: Statement, actor: Signer | undefined, problems: Problem[]): void {
    const c = this.current!;
    if (!c.policy && c.script && this.state.roster) {
      c.policy = new CeremonyPolicy((keyId) => this.state.keys.get(keyId));
      this.checkLink(s);
    }
    const p = s.predicate;
    let introduced: PublicIdentity | undefined;
    if (actor && !actor.enrolled) introduced = actor.identity;
    if (p.step === 'roster.enrol' && actor) introduced = actor.identity;
    c.policy?.observe({ line, step: p.step, actor: actor?.identity, introduced, params: p.params, result: p.result });
    if (p.step === 'ceremony.abort' && this.state.roster) {
      // A culprit named in an abort is judged again from the evidence it carries (blame-rules.ts).
      const why = abortProblem(p.result, { ceremony: p.ceremony, roster: this.state.roster, rosterDigest: this.state.rosterDigest, keyOf: (k) => this.state.keys.get(k) });
      if (why) problems.push({ kind: 'policy', reason: why });
    }
  }

  /**
   * A ceremony that never closed must be followed by one that opens with ceremony.interrupted
   * naming it; then what only its end would have shown is reported with the interruption, since
   * the crash is why it is missing. Without that record it is failed, with the ceremony.
   */
  private checkLink(first: Statement): void {
    const u = this.unclosed;
    this.unclosed = undefined;
    const p = first.predicate;
    const recorded = p.step === 'ceremony.interrupted';
    if (recorded) this.interrupted.push(this.interruptionOf(p.params, u?.id === p.params.ceremony ? u : undefined));
    if (!u) return;
    if (!recorded || p.params.ceremony !== u.id) {
      this.failOwed(u);
      this.fail(u.file, u.lastLine, 'unclosed', `ceremony ${u.id} never closed, and the next ceremony does not record it as interrupted`);
    }
  }

  private interruptionOf(params: Record<string, unknown>, u: CeremonyState | undefined): Interruption {
    const torn = Array.isArray(params.torn) ? params.torn.map((t) => shown((t as { file?: unknown })?.file)) : [];
    return {
      ceremony: shown(params.ceremony),
      lastSeq: typeof params.lastSeq === 'number' ? params.lastSeq : null,
      torn,
      recordedBy: { file: this.name(this.current!.file), line: 1 },
      owed: u?.owed ?? [],
    };
  }

  private failOwed(u: CeremonyState): void {
    for (const f of u.owed ?? []) this.fail(u.file, f.line, 'policy', f.reason);
  }

  /** The empty transcripts before this ceremony must be named, by their .torn files, in its opening ceremony.interrupted. */
  private checkEmptied(first: Statement | undefined): void {
    const p = first?.predicate;
    const torn = p?.step === 'ceremony.interrupted' && Array.isArray(p.params.torn) ? (p.params.torn as { file?: unknown }[]) : [];
    const named = new Set(torn.map((t) => (typeof t?.file === 'string' ? basename(t.file) : '')));
    for (const f of this.emptied.splice(0)) {
      if (!named.has(basename(f) + TORN_EXT)) this.fail(f, 0, 'empty', 'empty transcript, and the next ceremony does not record it as interrupted with its torn first line set aside');
    }
  }

  /** Ends the ceremony being read; `files`, when given, is how many files that leaves read, a point to resume from. */
  private closeCeremony(files?: number): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    for (const f of c.policy?.failures ?? []) this.fail(c.file, f.line, 'policy', f.reason, f.code);
    if (c.policy && !c.policy.closed) {
      // Held until the next ceremony says whether a crash cut it short (checkLink).
      c.owed = c.policy.owed();
      this.unclosed = c;
    } else for (const f of c.policy?.owed() ?? []) this.fail(c.file, f.line, 'policy', f.reason);
    // Only a point where nothing has failed and nothing waits on the next ceremony (an unclosed
    // one to be recorded as interrupted, an emptied file) is one to resume from.
    if (files !== undefined && this.failureCount === 0 && !this.unclosed && this.emptied.length === 0) this.takeResume(files);
  }

  /** A full digest may be any line; a checkpoint only a seal's, so it names the head of a ceremony. */
  private meetCheckpoints(digest: string, seal: boolean): void {
    for (const c of this.checkpoints) {
      if ((c.length === digest.length || seal) && matches(c, digest)) {
        this.checkpoints.delete(c);
        this.matched.push({ checkpoint: c, digest, ceremony: this.current!.id });
      }
    }
  }

  private checkEnd(): void {
    const first = this.files[0];
    if (!first) return this.fail('transcripts', 0, 'empty', 'no transcripts to verify');
    for (const f of this.emptied) this.fail(f, 0, 'empty', 'empty transcript (its first line was torn, and no ceremony has recorded that yet)');
    const u = this.unclosed;
    if (u) {
      this.failOwed(u);
      this.fail(u.file, u.lastLine, 'unclosed', `ceremony ${u.id} was never sealed (in progress, or interrupted: the next keyrite command records it)`);
    }
    if (!matches(this.opts.genesis, this.genesis)) {
      this.fail(first, 1, 'anchor', `genesis ${this.genesis ?? 'none'} is not the witnessed genesis ${this.opts.genesis}: this is another history`);
    }
    if (!matches(this.opts.head, this.prev)) {
      this.fail(this.last.file, this.last.line, 'anchor', `head ${this.prev ?? 'none'} is not the witnessed head ${this.opts.head}: history after it was removed, or it was rewritten`);
    }
    for (const d of this.checkpoints) {
      const what = d.length > CHECKPOINT_HEX ? 'the digest of any line' : 'the head of any ceremony';
      this.fail(this.last.file, this.last.line, 'anchor', `the witnessed checkpoint ${d}${d.length > CHECKPOINT_HEX ? '' : ` (${checkpointWords(d)})`} is not ${what} of this chain: history was removed or rewritten`);
    }
    this.checkReceipts();
    this.checkArtifacts();
    this.checkRosterFile();
  }

  /** Each receipt's ceremony, and the seal it names, must be in the chain; its signature by that seal's signer. */
  private checkReceipts(): void {
    for (const { file, receipt: r } of this.receipts) {
      const w = this.receiptCeremonies.get(r.ceremony)!;
      const seal = w.seals.get(r.head);
      const fail = (reason: string) => this.fail(file, 0, 'anchor', `${r.signer}'s receipt for ${r.ceremony}: ${reason}`);
      if (!w.seen) fail(`ceremony ${r.ceremony} is not in the chain: history after it was removed, or rewritten`);
      else if (!seal) fail(`head ${r.head} is not the seal of ceremony ${r.ceremony} in the chain: its end was removed, or rewritten`);
      else if (!seal.ok || !seal.actor) fail('the seal it names does not verify');
      else if (seal.actor.fingerprint !== r.keyid || !receiptSignedBy(r, seal.actor.signingKey)) fail(`it is not signed by ${seal.actor.name}, who sealed the ceremony: it was altered or forged`);
      else if (!w.result || w.result.keyId !== r.keyId || w.result.epoch !== r.epoch || w.result.messageDigest !== r.messageDigest) {
        fail(`the ceremony's sign.result does not sign key ${r.keyId} (epoch ${r.epoch}) over message ${r.messageDigest}`);
      }
    }
  }

  private checkArtifacts(): void {
    const root = this.opts.root;
    if (!root || this.opts.artifacts === false) return;
    const ws = new Workspace(root);
    for (const [name, art] of this.state.artifacts) {
      const rec = this.artifactLines.get(name)!;
      const path = this.placeOf(ws, artifactOf(name)!); // the fold admits only names of a known kind
      if (!path || !existsSync(path)) continue; // carried away: a custodian's shard lives on their medium
      let actual: string;
      try {
        actual = sha256Hex(readBytes(path, `artifact ${ws.relative(path)}`)); // a regular file, size-capped: never a device
      } catch (e) {
        this.fail(rec.file, rec.line, 'artifact', (e as Error).message);
        continue;
      }
      const as = name.startsWith('keyrite:') ? ` as ${name}` : '';
      // A key record cache one change behind is what a crash between the entry and the rewrite leaves (src/state/cache.ts); the next command rewrites it.
      const a = artifactOf(name);
      const behind = a?.kind === 'key-record' && this.state.formerCaches.get(a.keyId) === actual;
      if (actual !== art.sha256 && !behind) this.fail(rec.file, rec.line, 'artifact', `artifact ${ws.relative(path)} has sha256 ${actual}, but the transcript records ${art.sha256}${as}`);
    }
  }

  /**
   * Where an artifact sits in the workspace: a public record at its name; a shard or a current
   * set's guardian share, named by role, in its holder's holdings while they have not carried it
   * away. A share of a set since replaced has no place to check.
   */
  private placeOf(ws: Workspace, a: Artifact): string | undefined {
    switch (a.kind) {
      case 'key-record':
        return ws.keyFile(a.keyId);
      case 'public-identity':
        return ws.publicIdentityFile(a.name);
      case 'guardian-set':
        return ws.guardianSetFile(a.custodian);
      case 'shard':
        return shardPath(ws, a.custodian, a.keyId, a.epoch);
      case 'guardian-share': {
        const set = [...this.state.guardianSets.values()].find((g) => g.setId === a.setId && g.guardians.includes(a.guardian));
        return set && ws.guardianShareFile(a.guardian, set.custodian);
      }
    }
  }

  private checkRosterFile(): void {
    const f = this.opts.rosterFile;
    const roster = this.state.roster;
    if (!f || !roster) return;
    let onDisk: string;
    try {
      onDisk = readBytes(f, 'the roster file').toString('utf8');
    } catch {
      return this.fail(f, 0, 'cache', 'the roster file cannot be read');
    }
    // One change behind is what a crash between a roster.change and the cache's rewrite leaves (src/state/cache.ts); the next command rewrites it.
    if (onDisk !== rosterBytes(roster) && this.state.formerCaches.get('roster') !== sha256Hex(onDisk)) {
      this.fail(f, 0, 'cache', `the roster file is not the roster the transcript folds to (version ${roster.version}, ${this.state.rosterDigest.slice(0, 16)}…)`);
    }
  }
}

export function verifyTranscripts(opts: VerifyOptions): Promise<VerifyResult> {
  return new Verifier(opts).run();
}
