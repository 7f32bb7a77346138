import type { PublicIdentity } from '../state/identity.js';
import { byFingerprint, type Roster, type RosterChange } from '../state/roster.js';
import { checkPublicIdentity } from '../state/identity.js';
import { stepRule, type Script } from './script.js';

// Whose signature counts. A signature's keyid is the signer's fingerprint, which pins name,
// role and keys together; it counts only if that fingerprint is in the roster in force at that
// line. Two narrow exceptions let new keys in, each proving possession of the new key:
//  - while enrolment is open, a newcomer signs the start of their own enrol ceremony and their
//    roster.enrol with the identity those entries carry (the ceremony must then enrol them);
//  - a roster.change that brings in keys is co-signed by them (they do not count toward quorum).
// Every roster.change is co-signed by the approvers' quorum of the version in force — never
// counting whoever the change re-keys or removes — and by a witness of that version, so the
// approvers alone cannot re-key the witness, the generator, a node or a custodian
// (docs/ARCHITECTURE.md §6, "Roster"). One exception: where the script makes roster.change its
// sensitive act (a rotation: ceremonies/rotate.json), the change consumes the approvals of its
// request, which the fold's ledger counts (src/state/approvals.ts), so the approvers may have
// signed on their own devices; the witness and the new key still co-sign.
// The writer refuses to record what this module rejects, and the verifier reports it.

export interface Signer {
  identity: PublicIdentity;
  enrolled: boolean; // false: an identity the entry itself introduces
}

const INTRODUCING_STEPS = ['ceremony.interrupted', 'ceremony.start', 'roster.enrol'];

/** The identity an entry brings in, if any: who may sign it without being in the roster yet. */
export function introducedIdentity(roster: Roster, step: string, params: Record<string, unknown>): PublicIdentity | undefined {
  if (roster.version === 0 && INTRODUCING_STEPS.includes(step) && params.identity !== undefined) {
    return checkPublicIdentity(params.identity, `the identity carried by ${step}`);
  }
  const change = params.change as RosterChange | undefined;
  if (step === 'roster.change' && change && 'identity' in change) return checkPublicIdentity(change.identity, 'the identity in roster.change');
  return undefined;
}

/** The identity behind `keyid` at this line; throws an Error whose message is why it does not count. */
export function resolveSigner(roster: Roster, step: string, params: Record<string, unknown>, keyid: string): Signer {
  const enrolled = byFingerprint(roster, keyid);
  if (enrolled) return { identity: enrolled, enrolled: true };
  const introduced = introducedIdentity(roster, step, params);
  if (introduced?.fingerprint === keyid) return { identity: introduced, enrolled: false };
  throw new Error(`signer ${keyid} is not in roster version ${roster.version} at this point`);
}

const rolesOf = (signers: Signer[]) => new Set(signers.filter((s) => s.enrolled).map((s) => s.identity.role));

/** Who must sign what, for one entry; null when its signers suffice. */
export function signingProblem(script: Script, roster: Roster, step: string, params: Record<string, unknown>, actor: string, signers: Signer[]): string | null {
  const first = signers[0];
  if (!first) return 'no signatures';
  if (first.identity.name !== actor) return `first signature is by ${first.identity.name}, not the actor ${actor}`;
  if (!first.enrolled && step === 'roster.change') return `${actor} is not in roster version ${roster.version}`;
  const rule = stepRule(script, step);
  if (!rule) return `step ${step} is not in ceremony script ${script.name}`;
  if (!rule.roles.includes(first.identity.role)) return `${actor} is ${first.identity.role}, but ${step} in ${script.name} needs ${rule.roles.join(' or ')}`;
  const problem = stepProblem(script, roster, step, params, signers);
  if (problem) return problem;
  // One signature per key, and per enrolled person: a re-keyed member may sign with both their
  // old key (enrolled: consent) and their new one (introduced: possession), never twice with one.
  const enrolled = signers.filter((s) => s.enrolled);
  const unique = new Set(signers.map((s) => s.identity.fingerprint)).size === signers.length && new Set(enrolled.map((s) => s.identity.name)).size === enrolled.length;
  return unique ? null : 'the same identity signed twice';
}

/** Co-signatures particular steps need: witnesses on seals, the approvers' quorum on changes. */
function stepProblem(script: Script, roster: Roster, step: string, params: Record<string, unknown>, signers: Signer[]): string | null {
  const cosigners = signers.slice(1);
  switch (step) {
    case 'roster.seal':
      return rolesOf(cosigners).has('witness') ? null : 'roster.seal needs a witness co-signature';
    case 'ceremony.seal': {
      const missing = script.seal.filter((r) => !rolesOf(cosigners).has(r));
      return missing.length ? `the ${script.name} seal needs co-signatures by ${missing.join(', ')}` : null;
    }
    case 'roster.change':
      return changeProblem(roster, params, signers, script.approvals?.before === 'roster.change');
    default:
      return null;
  }
}

/** The roster name a change re-keys or removes: they never count toward its quorum. */
export function changedName(change: RosterChange | undefined): string | undefined {
  return change && (change.op === 'rekey' || change.op === 'remove') ? change.name : undefined;
}

function changeProblem(roster: Roster, params: Record<string, unknown>, signers: Signer[], approvedByLedger: boolean): string | null {
  const changed = changedName(params.change as RosterChange | undefined);
  const approvers = signers.filter((s) => s.enrolled && s.identity.role === 'custodian' && s.identity.name !== changed).length;
  if (!approvedByLedger && approvers < roster.policy.approvals) {
    const but = changed ? ` other than ${changed}` : '';
    return `roster.change needs ${roster.policy.approvals} custodians${but} of roster version ${roster.version}; ${approvers} signed`;
  }
  if (!rolesOf(signers.slice(1)).has('witness')) return `roster.change needs a witness co-signature of roster version ${roster.version}`;
  const introduced = introducedIdentity(roster, 'roster.change', params);
  if (introduced && !signers.some((s) => s.identity.fingerprint === introduced.fingerprint)) {
    return `roster.change brings in ${introduced.name}'s new key without its signature (proof of possession)`;
  }
  return null;
}
