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

const POLICY_FIELDS: readonly (keyof Policy)[] = ['threshold', 'parties', 'guardianThreshold', 'guardians', 'approvals'];

/** Checks a policy from any source (a flag, a transcript entry): every field present, and possible. */
export function checkPolicy(p: Policy): Policy {
  const bad = (m: string) => new KeyriteError('BAD_POLICY', m);
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw bad('there is no policy (threshold, parties, guardianThreshold, guardians, approvals)');
  for (const k of POLICY_FIELDS) if (!(k in p)) throw bad(`the policy has no ${k}`);
  for (const [k, v] of Object.entries(p)) if (!Number.isInteger(v) || v < 1) throw bad(`${k} must be a whole number ≥ 1, not ${JSON.stringify(v)}`);
  if (p.threshold < 2 || p.threshold > p.parties) throw bad(`threshold ${p.threshold} must be between 2 and the number of parties ${p.parties}`);
  if (p.guardianThreshold < 2 || p.guardianThreshold > p.guardians) throw bad(`guardian threshold ${p.guardianThreshold} must be between 2 and the number of guardians ${p.guardians}`);
  if (p.guardians > 255 || p.parties > 255) throw bad('at most 255 parties or guardians');
  return p;
}
