import { deserialize, serialize } from 'node:v8';
import { ApprovalLedger } from './approvals.js';
import { CustodyState } from './fold.js';

// A custody state as bytes and back, for the verified-state memo (src/audit/memo.ts). The V8
// serializer keeps Maps, Sets and plain data but not classes, so the classes the state is made
// of get their prototypes back here; test/state/snapshot.test.ts compares a revived state with
// a freshly folded one, so a class added to the state without being listed here fails there.

export function snapshotOf(state: CustodyState): Buffer {
  return serialize(state);
}

export function stateFrom(bytes: Uint8Array): CustodyState {
  const s = deserialize(bytes) as CustodyState;
  Object.setPrototypeOf(s, CustodyState.prototype);
  Object.setPrototypeOf(s.approvals, ApprovalLedger.prototype);
  return s;
}
