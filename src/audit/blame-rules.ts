import { shown } from '../base/errors.js';
import { recheckBlame, shareProtocolOf, type Bench, type PublicPackage, type SessionParams } from '../engine/index.js';
import type { KeyRecord } from '../state/key-record.js';
import { findMember, type Roster } from '../state/roster.js';

// A ceremony.abort that names a culprit carries the proof (docs/ARCHITECTURE.md §5, "Blame"):
// the culprit's own signed messages, which must be for a session of this very ceremony under
// the roster in force, signed by the culprit's node key in that roster, and must fail the check
// the accuser ran. The auditor judges it again here, offline. An unverified claim names only its
// claimant and proves nothing, so there is nothing to re-check in it but that it says so.

/** What an accusation in `session` is judged against: the node keys of `roster` (the one in force) and, for reshare, the key before the run. */
export function benchFor(roster: Roster, session: SessionParams, protocol: string, old?: PublicPackage): Bench {
  const signingKeyOf = (name: string) => {
    const m = findMember(roster, name);
    return m?.role === 'node' ? m.signingKey : undefined;
  };
  return { session, protocol, signingKeyOf, ...(old ? { old } : {}) };
}

export interface AbortContext {
  ceremony: string;
  roster: Roster;
  rosterDigest: string;
  keyOf: (keyId: string) => KeyRecord | undefined;
}

/** Null when a ceremony.abort's blame (if any) stands and its claim (if any) is marked unverified; else why not. */
export function abortProblem(result: Record<string, unknown>, ctx: AbortContext): string | null {
  const claim = result.claim as { verified?: unknown } | undefined;
  if (claim !== undefined && claim?.verified !== false) return 'an abort\'s claim must be marked unverified';
  if (result.blame === undefined) return null;
  const session = (result.blame as { session?: unknown } | null)?.session as SessionParams | undefined;
  if (typeof session !== 'object' || session === null) return 'the abort\'s blame names no session';
  if (session.ceremonyId !== ctx.ceremony) return `the abort's blame is for a session of ceremony ${shown(session.ceremonyId)}, not this one`;
  if (session.rosterDigest !== ctx.rosterDigest) return 'the abort\'s blame is for a session under another roster';
  const protocol = shareProtocolOf(session);
  const old = protocol === 'reshare' ? ctx.keyOf(session.keyId)?.publicPackage : undefined;
  const why = recheckBlame(result.blame, benchFor(ctx.roster, session, protocol, old));
  return why ? `the abort's blame does not stand: ${why}` : null;
}
