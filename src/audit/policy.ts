import { shown, type ErrorCode } from '../base/errors.js';
import type { PublicIdentity } from '../state/identity.js';
import type { KeyRecord } from '../state/key-record.js';
import { receiptSlot } from '../state/receipts.js';
import { SignRules } from './sign-rules.js';

// The rules a ceremony must follow beyond each entry's own signatures (docs/ARCHITECTURE.md §1, §6):
//  - it opens with ceremony.start (after ceremony.interrupted, if the one before never closed),
//    and closes with ceremony.seal (by the same actor) or ceremony.abort, with nothing after;
//  - a newcomer who signed its opening entries is enrolled by it;
//  - (the approvals before a script's sensitive step are the fold's to count, for the writer and
//    the verifier alike: src/state/approvals.ts; a shortfall is a `transition` failure);
//  - every node that deleted key K, and every node that took part in signing with K, attests
//    afterwards, in the same ceremony, that it holds nothing for K;
//  - a node deletes its share of K only after its custodian's export.receipt for that party and
//    epoch, earlier in the same ceremony (the fold checks the receipt itself: state/receipts.ts);
//  - a signature is backed by the intent and t custodians' requests (sign-rules.ts).

export interface PolicyFailure {
  line: number;
  reason: string;
  /** The error code of the rule broken, where it has one (a failure's `code` in audit verify). */
  code?: ErrorCode;
}

export interface Observed {
  line: number;
  step: string;
  actor: PublicIdentity | undefined; // undefined when the first signer could not be resolved
  introduced: PublicIdentity | undefined; // a newcomer the entry brings in, if any
  params: Record<string, unknown>;
  result: Record<string, unknown>;
}

interface Obligation {
  node: string;
  keyId: string;
  line: number;
  why: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export class CeremonyPolicy {
  private starter: string | undefined;
  private closedAt: number | undefined;
  private readonly obligations: Obligation[] = [];
  private readonly newcomers = new Map<string, number>(); // fingerprint -> line that introduced it
  private readonly receipts = new Set<string>(); // receiptSlot of each export.receipt seen so far
  readonly failures: PolicyFailure[] = [];

  private readonly sign: SignRules;

  constructor(keyOf: (keyId: string) => KeyRecord | undefined) {
    this.sign = new SignRules(keyOf);
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  observe(e: Observed): void {
    const fail = (reason: string, code?: ErrorCode) => this.failures.push({ line: e.line, reason, ...(code ? { code } : {}) });
    if (this.closedAt !== undefined) fail(`${e.step} after the ceremony closed at line ${this.closedAt}`);
    this.checkOpening(e, fail);
    if (e.introduced && e.step !== 'roster.enrol' && e.step !== 'roster.change') this.newcomers.set(e.introduced.fingerprint, e.line);
    const actor = e.actor?.name;
    switch (e.step) {
      case 'roster.enrol':
        if (e.introduced) this.newcomers.delete(e.introduced.fingerprint);
        break;
      case 'export.receipt':
        this.receipts.add(receiptSlot(shown(e.params.keyId), Number(e.params.epoch), shown(e.params.party)));
        break;
      case 'node.delete':
        if (!actor) break;
        this.oblige(actor, str(e.params.keyId), e.line, 'deleted its share of', fail);
        // A party runs on the node of its name, so the node's name is the party's.
        if (!this.receipts.has(receiptSlot(shown(e.params.keyId), Number(e.params.epoch), actor))) {
          fail(`${actor} deleted its share of key ${shown(e.params.keyId)} at epoch ${shown(e.params.epoch)} before any receipt from its custodian for that shard in this ceremony`, 'RECEIPT_MISSING');
        }
        break;
      case 'sign.intent':
        this.problem(this.sign.intended(e.params), fail);
        break;
      case 'sign.request':
        if (actor) this.problem(this.sign.requested(actor, e.params), fail);
        break;
      case 'sign.result':
        this.problem(this.sign.result(e.params, e.result), fail);
        for (const node of Array.isArray(e.params.nodes) ? e.params.nodes : []) this.oblige(shown(node), str(e.params.keyId), e.line, 'signed with', fail);
        break;
      case 'node.attest':
        if (actor) this.discharge(actor, e.result.holds);
        break;
      case 'ceremony.seal':
        if (actor !== this.starter) fail(`sealed by ${actor ?? 'an unknown signer'}, but the ceremony's actor is ${this.starter ?? 'unknown'}`);
        this.closedAt = e.line;
        break;
      case 'ceremony.abort':
        this.closedAt = e.line;
        break;
    }
  }

  /**
   * What only the ceremony's end shows, once its last line is read: a node that deleted or
   * signed and never attested, a newcomer never enrolled. A ceremony a crash cut short never
   * reached its end, so the verifier lists these with its interruption instead (verify.ts).
   */
  owed(): PolicyFailure[] {
    return [
      ...this.obligations.map((o) => ({ line: o.line, reason: `${o.node} ${o.why} key ${o.keyId} but never attested, later in this ceremony, that it holds nothing for it` })),
      ...[...this.newcomers].map(([fingerprint, line]) => ({ line, reason: `signed by newcomer ${fingerprint}, whom this ceremony never enrols` })),
    ];
  }

  private problem(why: string | null, fail: (reason: string) => void): void {
    if (why) fail(why);
  }

  private checkOpening(e: Observed, fail: (reason: string) => void): void {
    if (this.starter !== undefined) {
      if (e.step === 'ceremony.start' || e.step === 'ceremony.interrupted') fail(`${e.step} in the middle of a ceremony`);
      return;
    }
    if (e.step === 'ceremony.interrupted' && e.line === 1) return;
    if (e.step !== 'ceremony.start') fail(`a ceremony opens with ceremony.start, not ${e.step}`);
    this.starter = e.actor?.name ?? '';
  }

  private oblige(node: string, keyId: string | undefined, line: number, why: string, fail: (reason: string) => void): void {
    if (!keyId) return fail('no params.keyId');
    this.obligations.push({ node, keyId, line, why });
  }

  private discharge(node: string, holds: unknown): void {
    const held = new Set((Array.isArray(holds) ? holds : []).map((h) => str((h as { keyId?: unknown })?.keyId)));
    for (let i = this.obligations.length - 1; i >= 0; i--) {
      const o = this.obligations[i]!;
      if (o.node === node && !held.has(o.keyId)) this.obligations.splice(i, 1);
    }
  }
}
