import { KeyriteError } from '../base/errors.js';

// The roster's policy: how many signers, guardians and approvers. Kept apart from roster.ts so
// that the CLI can show its defaults without loading the evidence layer.

export interface Policy {
  threshold: number; // t of the signing key
  parties: number; // n signing nodes
  guardianThreshold: number; // k of a custodian's guardian split
  guardians: number; // m guardians per custodian
  approvals: number; // approvers needed for a sensitive operation
}

export const DEFAULT_POLICY: Policy = { threshold: 2, parties: 3, guardianThreshold: 3, guardians: 5, approvals: 2 };

const FIELDS: readonly (keyof Policy)[] = ['threshold', 'parties', 'guardianThreshold', 'guardians', 'approvals'];

/**
 * Every field present and a whole number ≥ 1, and no other: a policy that leaves one out (a
 * roster change omitting `approvals`, say) would otherwise ask for nothing.
 */
export function checkPolicy(p: Policy): Policy {
  const bad = (m: string) => new KeyriteError('BAD_POLICY', m);
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw bad('there is no policy (threshold, parties, guardianThreshold, guardians, approvals)');
  const extra = Object.keys(p).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (extra.length) throw bad(`a policy has no field ${extra.join(', ')}`);
  for (const k of FIELDS) if (!Number.isInteger(p[k]) || p[k] < 1) throw bad(`${k} must be a whole number ≥ 1, not ${String(p[k])}`);
  if (p.threshold < 2 || p.threshold > p.parties) throw bad(`threshold ${p.threshold} must be between 2 and the number of parties ${p.parties}`);
  if (p.guardianThreshold < 2 || p.guardianThreshold > p.guardians) throw bad(`guardian threshold ${p.guardianThreshold} must be between 2 and the number of guardians ${p.guardians}`);
  if (p.guardians > 255 || p.parties > 255) throw bad('at most 255 parties or guardians');
  return p;
}
