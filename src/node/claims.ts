import { KeyriteError } from '../base/errors.js';
import { printable } from '../base/printable.js';
import { judgeAccusation, type Accusation, type Bench, type ProvedBlame, type UnverifiedClaim } from '../engine/index.js';

// What a node's failure says about another party is that node's claim (docs/ARCHITECTURE.md §5,
// "Blame"): a malicious node could otherwise name an honest one. The coordinator names a culprit
// only when the accusing node handed over the culprit's own signed messages and they fail the
// check (judgeAccusation); the proof goes into the record, so an auditor can check it again.
// Anything else is recorded as the accuser's unverified claim: the accused is not blamed.

/**
 * The failure of `node` (the node that answered, whatever the error says) as the coordinator
 * passes it on: an error that names another party (its party, its node, or the party a remote
 * node accused, http-client.ts) becomes a proved blame or `node`'s unverified claim; the accused
 * is never the error's party or node without the proof.
 */
export function judged(e: unknown, node: string, bench: Bench): unknown {
  if (!(e instanceof KeyriteError)) return e;
  const against = [e.party, e.node, e.details.accused].find((n): n is string => typeof n === 'string' && n !== node);
  if (against === undefined) return e;
  const accusation = e.details.accusation as Accusation | undefined;
  const v = judgeAccusation(accusation, node, bench);
  if (v.verified) {
    const blame: ProvedBlame = {
      verified: true, culprit: v.culprit, by: v.by, code: v.code, why: v.why, protocol: bench.protocol, session: bench.session, evidence: accusation!.evidence, digest: v.digest,
    };
    return new KeyriteError(e.code, `${v.culprit} is at fault, proved by its own signed messages that ${node} handed over: ${v.why}`, { party: v.culprit, cause: e, details: { blame } });
  }
  const claim: UnverifiedClaim = { verified: false, by: node, against, code: e.code, why: v.why };
  return new KeyriteError('PROTOCOL_UNVERIFIED_CLAIM', `node ${node} claims ${against} is at fault (${e.code}: ${e.message}), but ${printable(v.why)}; ${against} is not blamed`, { node, cause: e, details: { claim } });
}
