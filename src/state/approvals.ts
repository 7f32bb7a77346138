// Approvals waiting for the act they approve (docs/ARCHITECTURE.md §6), folded from `approval` entries: who
// approved which operation on which target. An act that needs approvals consumes them, so one
// approval never counts twice. A ceremony asks `count` before it starts; the writer and the
// verifier consume at the sensitive step, with the same code.

export interface ApprovalTarget {
  operation: string;
  target: string | undefined;
}

const keyOf = (t: ApprovalTarget): string => `${t.operation}\u0000${t.target ?? ''}`;

export class ApprovalLedger {
  private readonly pending = new Map<string, Set<string>>();

  add(t: ApprovalTarget, approver: string): void {
    const k = keyOf(t);
    this.pending.set(k, (this.pending.get(k) ?? new Set()).add(approver));
  }

  /** How many distinct people have approved `t` and not yet been consumed. */
  count(t: ApprovalTarget): number {
    return this.pending.get(keyOf(t))?.size ?? 0;
  }

  /** Takes the approvals for an act; returns how many distinct approvers there were. */
  consume(t: ApprovalTarget): number {
    const n = this.count(t);
    this.pending.delete(keyOf(t));
    return n;
  }
}
