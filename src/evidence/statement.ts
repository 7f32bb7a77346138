import { canonical } from '../base/canonical.js';
import { isIsoTime } from '../base/time.js';
import type { Tool } from './tool.js';

// The in-toto Statement v1 each envelope carries (github.com/in-toto/attestation, spec v1).
// Subjects are the artifacts a step produced or checked; the predicate is one ceremony step.

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://keyrite.dev/step/v1';

/** in-toto requires at least one subject; a step without artifacts names the roster in force. */
export const ROSTER_SUBJECT = 'keyrite:roster';

export interface Subject {
  name: string; // an artifact name of one of the kinds in src/state/artifacts.ts
  sha256: string;
}

export interface Predicate {
  ceremony: string;
  seq: number; // 0 for a ceremony's first line, +1 per line
  prev: string | null; // sha256 of the previous line's bytes; null only for the genesis line
  step: string;
  actor: string; // name of the first signer
  roster: string; // digest of the roster in force before this step
  script: string; // digest of the ceremony script
  tool: Tool;
  params: Record<string, unknown>;
  result: Record<string, unknown>;
  time: string; // ISO 8601, the writer's clock; approvals' expiry is checked against it (src/state/approvals.ts)
}

export interface Statement {
  _type: typeof STATEMENT_TYPE;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: typeof PREDICATE_TYPE;
  predicate: Predicate;
}

export function makeStatement(subjects: Subject[], predicate: Predicate): Statement {
  const named = subjects.length > 0 ? subjects : [{ name: ROSTER_SUBJECT, sha256: predicate.roster }];
  return {
    _type: STATEMENT_TYPE,
    subject: named.map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
    predicateType: PREDICATE_TYPE,
    predicate,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDigest = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

/**
 * Parses a payload; throws an Error whose message is the reason it is not a keyrite step. The
 * payload must be its statement's RFC 8785 canonical JSON: the signature covers these bytes, so
 * a second spelling (a duplicate key, whitespace) would say one thing to one parser and another
 * to the next.
 */
export function parseStatement(payload: Buffer): Statement {
  let s: Record<string, unknown>;
  const text = payload.toString('utf8');
  try {
    s = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error('payload is not valid JSON');
  }
  if (canonical(s) !== text) throw new Error('payload is not its statement\'s canonical JSON (RFC 8785)');
  if (!isObject(s) || s._type !== STATEMENT_TYPE) throw new Error('payload is not an in-toto Statement v1');
  if (s.predicateType !== PREDICATE_TYPE) throw new Error(`predicateType is not ${PREDICATE_TYPE}`);
  if (!Array.isArray(s.subject) || s.subject.length === 0) throw new Error('statement has no subject');
  for (const sub of s.subject) {
    if (!isObject(sub) || typeof sub.name !== 'string' || !isObject(sub.digest) || !isDigest(sub.digest.sha256)) {
      throw new Error('malformed subject');
    }
  }
  const p = s.predicate;
  if (!isObject(p)) throw new Error('statement has no predicate');
  const bad = (field: string) => new Error(`predicate field ${field} is missing or malformed`);
  if (typeof p.ceremony !== 'string') throw bad('ceremony');
  if (!Number.isSafeInteger(p.seq) || (p.seq as number) < 0) throw bad('seq');
  if (p.prev !== null && !isDigest(p.prev)) throw bad('prev');
  if (typeof p.step !== 'string') throw bad('step');
  if (typeof p.actor !== 'string') throw bad('actor');
  if (!isDigest(p.roster)) throw bad('roster');
  if (!isDigest(p.script)) throw bad('script');
  if (!isObject(p.params)) throw bad('params');
  if (!isObject(p.result)) throw bad('result');
  if (!isIsoTime(p.time)) throw bad('time (ISO 8601)');
  return s as unknown as Statement;
}

/**
 * The artifact subjects of a statement (without the roster placeholder): public records by their
 * workspace path, carried-away files by role (src/state/artifacts.ts).
 */
export function artifactsOf(s: Statement): Subject[] {
  return s.subject.filter((x) => x.name !== ROSTER_SUBJECT).map((x) => ({ name: x.name, sha256: x.digest.sha256 }));
}
