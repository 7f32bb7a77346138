import type { FoldEntry } from '../state/fold.js';
import { stepRule, type Script } from './script.js';
import { artifactsOf, type Statement } from './statement.js';

// A transcript statement as the fold sees it (src/state/fold.ts). The writer builds it for the
// entry it is about to append, the verifier for each entry it has checked: one function, so
// both fold exactly the same thing. The script says which approvals the step consumes (the
// step's params.request names the request they approved), and which artifact kinds it may
// create, replace or check.

export function foldEntryOf(s: Statement, script: Script | undefined): FoldEntry {
  const p = s.predicate;
  const a = script?.approvals;
  const consumes = a && a.before === p.step ? { operation: a.operation, count: a.count } : undefined;
  const artifacts = script && stepRule(script, p.step)?.artifacts;
  return {
    ceremony: p.ceremony, step: p.step, actor: p.actor, params: p.params, result: p.result, subjects: artifactsOf(s), time: p.time,
    ...(consumes ? { consumes } : {}), ...(artifacts ? { artifacts } : {}),
  };
}
