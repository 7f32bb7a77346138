import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, normalize, relative } from 'node:path';
import { sha256Hex } from '../base/canonical.js';
import type { PublicIdentity } from '../custody/identity.js';
import { byCeremonyOrder, ceremonyIdOf, lineDigest, readLines } from '../evidence/chain.js';
import { pae, parseEnvelope, PAYLOAD_TYPE, type Envelope } from '../base/dsse.js';
import { Verifier as Ed25519Verifier } from '../base/ed25519.js';
import { ApprovalLedger, CeremonyPolicy } from './policy.js';
import { applyStep, genesisRoster } from '../state/fold.js';
import { rosterDigest, type Roster } from '../state/roster.js';
import { scriptsByDigest, type Script } from '../evidence/script.js';
import { resolveSigner, signingProblem, type Signer } from '../evidence/signers.js';
import { artifactsOf, parseStatement, type Statement } from '../evidence/statement.js';

// audit verify: reads every transcript line once, in order, holding only the roster in force,
// the open ceremony's policy state and the last digest, so memory stays flat however long the
// history. Each line is checked for: envelope and statement form, signatures by keys in the
// roster in that role at that point, seq and prev (order, deletions, splices), the roster
// digest it claims, a known ceremony script that allows the step. Then the ceremony's policy,
// the links between ceremonies, the witnessed genesis and head, and artifacts on disk.

export interface Failure {
  file: string;
  line: number; // 1-based; 0 for a file-level failure
  reason: string;
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
  failures: string[];
}

export interface VerifyOptions {
  files: string[]; // every transcript of the chain, in any order (sorted by ceremony number)
  root?: string; // workspace root: artifacts are checked against it, file names shown relative to it
  rosterFile?: string; // the workspace roster, which must equal the replayed one
  genesis?: string; // witnessed digest of the first line
  head?: string; // witnessed digest of the last line
  onEntry?: (e: EntryView) => void;
  maxFailures?: number; // failures kept in the result (the count is always exact); default 1000
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  ceremonies: number;
  genesis: string | null;
  head: string | null;
  failures: Failure[];
  failureCount: number;
}

/** Lines between returns to the event loop, so a spinner (or a memory sampler) keeps running. */
const YIELD_EVERY = 2048;

interface CeremonyState {
  id: string;
  file: string;
  script: Script | undefined;
  policy: CeremonyPolicy | undefined;
  seq: number;
  lastLine: number;
}

export class Verifier {
  private roster: Roster | undefined;
  private rosterDigest = '';
  private prev: string | null = null; // digest of the last line read
  private genesis: string | null = null;
  private entries = 0;
  private ceremonies = 0;
  private current: CeremonyState | undefined;
  private unclosed: CeremonyState | undefined; // the previous ceremony, if it never closed
  private readonly artifacts = new Map<string, { sha256: string; file: string; line: number }>();
  private readonly ledger = new ApprovalLedger();
  private readonly checker = new Ed25519Verifier();
  private readonly scripts = scriptsByDigest();
  private readonly failures: Failure[] = [];
  private failureCount = 0;
  private readonly files: string[];
  private last = { file: '', line: 0 };

  constructor(private readonly opts: VerifyOptions) {
    this.files = byCeremonyOrder(opts.files);
  }

  async run(): Promise<VerifyResult> {
    for (const file of this.files) await this.verifyFile(file);
    this.closeCeremony();
    this.checkEnd();
    return {
      ok: this.failureCount === 0,
      entries: this.entries,
      ceremonies: this.ceremonies,
      genesis: this.genesis,
      head: this.prev,
      failures: this.failures,
      failureCount: this.failureCount,
    };
  }

  private name(file: string): string {
    return this.opts.root && !relative(this.opts.root, file).startsWith('..') ? relative(this.opts.root, file) : file;
  }

  private fail(file: string, line: number, reason: string): void {
    this.failureCount++;
    if (this.failures.length < (this.opts.maxFailures ?? 1000)) this.failures.push({ file: this.name(file), line, reason });
  }

  private async verifyFile(file: string): Promise<void> {
    this.closeCeremony();
    this.ceremonies++;
    this.current = { id: ceremonyIdOf(file), file, script: undefined, policy: undefined, seq: 0, lastLine: 0 };
    let n = 0;
    for (const { bytes, complete } of readLines(file)) {
      n++;
      if (this.entries % YIELD_EVERY === YIELD_EVERY - 1) await new Promise(setImmediate);
      if (complete) this.verifyLine(file, n, bytes);
      else this.fail(file, n, 'truncated last line (a torn write: the next keyrite command sets it aside and records ceremony.interrupted)');
    }
    if (n === 0) this.fail(file, 0, 'empty transcript');
  }

  private verifyLine(file: string, line: number, bytes: Buffer): void {
    this.entries++;
    const digest = lineDigest(bytes);
    const text = bytes.toString('utf8');
    const problems: string[] = [];
    let envelope: Envelope | undefined;
    let statement: Statement | undefined;
    let payload: Buffer | undefined;
    try {
      envelope = parseEnvelope(text);
      payload = Buffer.from(envelope.payload, 'base64');
      statement = parseStatement(payload);
    } catch (e) {
      problems.push(`not a keyrite entry: ${(e as Error).message}`);
    }
    let signatures: SignatureView[] = [];
    if (envelope && statement && payload) signatures = this.checkEntry(file, line, digest, envelope, payload, statement, problems);
    // Resynchronise on this line whatever happened, so one bad line yields one failure, not a cascade.
    this.prev = digest;
    this.current!.seq = (statement?.predicate.seq ?? this.current!.seq) + 1;
    this.current!.lastLine = line;
    this.last = { file, line };
    for (const reason of problems) this.fail(file, line, reason);
    this.opts.onEntry?.({ file: this.name(file), line, digest, statement, signatures, failures: problems });
  }

  private checkEntry(file: string, line: number, digest: string, env: Envelope, payload: Buffer, s: Statement, problems: string[]): SignatureView[] {
    const p = s.predicate;
    this.checkChain(line, p.ceremony, p.seq, p.prev, digest, problems);
    if (this.genesis === digest && p.step === 'ceremony.start') this.startGenesis(p.params, problems);
    const script = this.scriptOf(p.script, line, problems);
    if (!this.roster) {
      problems.push('no roster in force: the chain does not start with a genesis ceremony.start');
      return env.signatures.map((sig) => ({ keyid: sig.keyid, name: undefined, role: undefined, ok: false }));
    }
    if (p.roster !== this.rosterDigest) problems.push(`claims roster ${p.roster.slice(0, 16)}…, but roster version ${this.roster.version} in force is ${this.rosterDigest.slice(0, 16)}…`);

    const message = pae(PAYLOAD_TYPE, payload);
    const signers: (Signer | undefined)[] = [];
    const views = env.signatures.map((sig, i) => {
      let signer: Signer | undefined;
      try {
        signer = resolveSigner(this.roster!, p.step, p.params, sig.keyid);
      } catch (e) {
        problems.push(`signature ${i + 1}: ${(e as Error).message}`);
      }
      const ok = signer !== undefined && this.checker.check(signer.identity.signingKey, message, Buffer.from(sig.sig, 'base64'));
      if (signer && !ok) problems.push(`signature ${i + 1} (${signer.identity.name}, ${sig.keyid}) does not verify`);
      signers.push(ok ? signer : undefined);
      return { keyid: sig.keyid, name: signer?.identity.name, role: signer?.identity.role, ok };
    });
    const valid = signers.filter((x): x is Signer => x !== undefined);
    const signedOk = valid.length === signers.length;
    if (script && signedOk) {
      const problem = signingProblem(script, this.roster, p.step, p.params, p.actor, valid);
      if (problem) problems.push(problem);
    }
    this.observe(line, s, signers[0], problems);
    if (signedOk && problems.length === 0) this.applyRoster(p.step, p.params, problems);
    for (const a of artifactsOf(s)) this.artifacts.set(a.name, { sha256: a.sha256, file, line });
    return views;
  }

  private checkChain(line: number, ceremony: string, seq: number, prev: string | null, digest: string, problems: string[]): void {
    const c = this.current!;
    if (line === 1 && this.entries === 1) this.genesis = digest;
    if (ceremony !== c.id) problems.push(`entry belongs to ceremony ${ceremony}, not ${c.id}`);
    if (seq !== c.seq) problems.push(`seq ${seq} where ${c.seq} was expected (a line was removed, reordered or inserted)`);
    if (prev !== this.prev) {
      const what = this.prev === null ? 'the genesis line names no previous line' : line === 1 ? 'the head of the previous ceremony' : 'the previous line';
      problems.push(`prev ${prev?.slice(0, 16) ?? 'null'}… does not match ${what}${this.prev ? ` (${this.prev.slice(0, 16)}…)` : ''}`);
    }
  }

  private startGenesis(params: Record<string, unknown>, problems: string[]): void {
    try {
      this.setRoster(genesisRoster(params));
    } catch (e) {
      problems.push((e as Error).message);
    }
  }

  private scriptOf(digest: string, line: number, problems: string[]): Script | undefined {
    const c = this.current!;
    const script = this.scripts.get(digest);
    if (!script) problems.push(`unknown ceremony script ${digest.slice(0, 16)}… (not one keyrite ships)`);
    else if (c.script && c.script !== script) problems.push(`script ${script.name} differs from the ceremony's script ${c.script.name}`);
    else if (!c.script && line <= 2) c.script = script;
    return script;
  }

  private observe(line: number, s: Statement, actor: Signer | undefined, problems: string[]): void {
    const c = this.current!;
    if (!c.policy && c.script && this.roster) {
      c.policy = new CeremonyPolicy(c.script, this.roster.policy.approvals, this.ledger);
      this.checkLink(s);
    }
    const p = s.predicate;
    let introduced: PublicIdentity | undefined;
    if (actor && !actor.enrolled) introduced = actor.identity;
    if (p.step === 'roster.enrol' && actor) introduced = actor.identity;
    c.policy?.observe({ line, step: p.step, actor: actor?.identity, introduced, params: p.params, result: p.result });
  }

  /** A ceremony that never closed must be followed by one that opens with ceremony.interrupted naming it. */
  private checkLink(first: Statement): void {
    const u = this.unclosed;
    if (!u) return;
    this.unclosed = undefined;
    const p = first.predicate;
    if (p.step !== 'ceremony.interrupted' || p.params.ceremony !== u.id) {
      this.fail(u.file, u.lastLine, `ceremony ${u.id} never closed, and the next ceremony does not record it as interrupted`);
    }
  }

  private applyRoster(step: string, params: Record<string, unknown>, problems: string[]): void {
    if (!this.roster) return;
    try {
      const next = applyStep(this.roster, step, params);
      if (next !== this.roster) this.setRoster(next);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }

  private setRoster(r: Roster): void {
    this.roster = r;
    this.rosterDigest = rosterDigest(r);
  }

  private closeCeremony(): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    for (const f of c.policy?.close() ?? []) this.fail(c.file, f.line, f.reason);
    if (c.policy && !c.policy.closed) this.unclosed = c;
  }

  private checkEnd(): void {
    const first = this.files[0];
    if (!first) return this.fail('transcripts', 0, 'no transcripts to verify');
    const u = this.unclosed;
    if (u) this.fail(u.file, u.lastLine, `ceremony ${u.id} was never sealed (in progress, or interrupted: the next keyrite command records it)`);
    if (this.opts.genesis && this.opts.genesis !== this.genesis) {
      this.fail(first, 1, `genesis ${this.genesis ?? 'none'} is not the witnessed genesis ${this.opts.genesis}: this is another history`);
    }
    if (this.opts.head && this.opts.head !== this.prev) {
      this.fail(this.last.file, this.last.line, `head ${this.prev ?? 'none'} is not the witnessed head ${this.opts.head}: history after it was removed, or it was rewritten`);
    }
    this.checkArtifacts();
    this.checkRosterFile();
  }

  private checkArtifacts(): void {
    const root = this.opts.root;
    if (!root) return;
    for (const [name, rec] of this.artifacts) {
      if (isAbsolute(name) || normalize(name).startsWith('..')) {
        this.fail(rec.file, rec.line, `artifact name ${name} is not inside the workspace`);
        continue;
      }
      const path = join(root, name);
      if (!existsSync(path)) continue; // carried away: a custodian's shard lives on their medium
      const actual = sha256Hex(readFileSync(path));
      if (actual !== rec.sha256) this.fail(rec.file, rec.line, `artifact ${name} has sha256 ${actual}, but the transcript records ${rec.sha256}`);
    }
  }

  private checkRosterFile(): void {
    const f = this.opts.rosterFile;
    if (!f || !this.roster) return;
    let onDisk: string;
    try {
      onDisk = rosterDigest(JSON.parse(readFileSync(f, 'utf8')) as Roster);
    } catch {
      return this.fail(f, 0, 'the roster file is not valid JSON');
    }
    if (onDisk !== this.rosterDigest) {
      this.fail(f, 0, `the roster file (digest ${onDisk.slice(0, 16)}…) is not the roster the transcript replays to (version ${this.roster.version}, ${this.rosterDigest.slice(0, 16)}…)`);
    }
  }
}

export function verifyTranscripts(opts: VerifyOptions): Promise<VerifyResult> {
  return new Verifier(opts).run();
}
