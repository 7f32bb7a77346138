import { digestOf } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { checkDkgSubShare, decodeRound1 } from './dkg.js';
import { ecdsaSuite } from './ecdsa/suite.js';
import {
  BROADCAST, checkShape, envelopeSignatureValid, membersOf, sessionIdOf, statementSignatureValid,
  type DirectStatement, type Envelope, type SessionParams,
} from './envelope.js';
import { checkRefreshSubShare, decodeRefreshCommitment } from './refresh.js';
import { checkDealerCommitment, checkReshareSubShare } from './reshare.js';
import { idHex } from './share.js';
import { SUITES, type Suite } from './suite.js';
import type { PublicPackage } from './types.js';

// A party's word that another dealt it a bad commitment or sub-share is only a claim until its
// evidence proves it (docs/ARCHITECTURE.md §5, "Blame"). The accuser hands over the dealer's own
// signed messages: its round-1 broadcast (the commitment) and, for a bad sub-share, the signed
// point-to-point statement that carried it — signed before it was encrypted, so once opened it
// needs nothing else to bind it to the dealer, the session, the round and the recipient. Whoever
// judges (the coordinator, or an auditor offline) checks both signatures against the roster and
// the session, then re-runs the very check the accuser ran (dkg.ts, refresh.ts, reshare.ts).
// Only when that check fails on the dealer's own signed data is the dealer the culprit.

/** Codes an accusation may carry: faults visible in a dealer's signed commitment and sub-share. */
export const ACCUSABLE: ReadonlySet<string> = new Set(['PROTOCOL_INVALID_SHARE', 'PROTOCOL_INVALID_COMMITMENT', 'PROTOCOL_MALFORMED']);

export type ShareProtocol = 'dkg' | 'refresh' | 'reshare';

/** What an accusing party hands over (plain JSON). */
export interface Accusation {
  v: 1;
  code: string;
  /** The accusing party. */
  by: string;
  /** The dealer accused. */
  against: string;
  protocol: string;
  session: SessionParams;
  evidence: {
    /** The dealer's signed round-1 broadcast. */
    commitment?: Envelope;
    /** The dealer's signed point-to-point statement to the accuser, opened (absent for a commitment fault). */
    share?: DirectStatement;
  };
}

/** What the judge knows without the accuser: the session it ran, the roster's keys, and (reshare) the key before the run. */
export interface Bench {
  session: SessionParams;
  protocol: string;
  /** A member's Ed25519 public key (hex), from the roster in force. */
  signingKeyOf: (name: string) => string | undefined;
  /** Reshare: the public package the dealers hold shares of. */
  old?: PublicPackage;
}

export type Verdict =
  | { verified: true; culprit: string; by: string; code: string; why: string; digest: string }
  | { verified: false; by: string; against: string | undefined; code: string | undefined; why: string };

/** A proved fault, as ceremony.abort records it (`result.blame`): the evidence is carried, so an auditor can judge it again. */
export interface ProvedBlame {
  verified: true;
  culprit: string;
  by: string;
  code: string;
  why: string;
  protocol: string;
  session: SessionParams;
  evidence: Accusation['evidence'];
  /** sha256 of the evidence's RFC 8785 form. */
  digest: string;
}

/** A fault one party claimed of another that its evidence does not prove (`result.claim`). */
export interface UnverifiedClaim {
  verified: false;
  by: string;
  against: string;
  code: string;
  why: string;
}

/** Judges a recorded blame again, as the coordinator did: null when it stands, else why not. */
export function recheckBlame(value: unknown, bench: Bench): string | null {
  const b = (typeof value === 'object' && value !== null ? value : {}) as Partial<ProvedBlame>;
  if (b.verified !== true || typeof b.by !== 'string') return 'a blame that is not marked verified, or names no accuser';
  const accusation: Accusation = { v: 1, code: String(b.code), by: b.by, against: String(b.culprit), protocol: String(b.protocol), session: b.session!, evidence: b.evidence ?? {} };
  const v = judgeAccusation(accusation, b.by, bench);
  if (!v.verified) return `its evidence does not prove ${String(b.culprit)} at fault: ${v.why}`;
  if (v.digest !== b.digest) return `its evidence digest ${String(b.digest)} is not that of the evidence it carries`;
  return null;
}

/** The protocol a share-making session runs, from its shape (what an auditor has to go on). */
export function shareProtocolOf(session: SessionParams): ShareProtocol {
  if (session.keyId === 'new') return 'dkg';
  return session.dealers ? 'reshare' : 'refresh';
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Judges `value`, an accusation made by `by` (the party that answered, whatever the value claims). */
export function judgeAccusation(value: unknown, by: string, bench: Bench): Verdict {
  const a = (typeof value === 'object' && value !== null ? value : {}) as Partial<Accusation>;
  const claim = { by, against: str(a.against), code: str(a.code) };
  const unproven = (why: string): Verdict => ({ verified: false, ...claim, why });
  const problem = formProblem(a, by, bench);
  if (problem) return unproven(problem);
  const fault = faultOf(a as Accusation, bench);
  if (!fault) return unproven(`${a.against}'s signed messages pass the check ${by} says they fail`);
  return { verified: true, culprit: a.against!, by, code: fault.code, why: fault.message, digest: digestOf(a.evidence) };
}

// Everything but the check itself: the claim's form, its session, and the dealer's signatures.
function formProblem(a: Partial<Accusation>, by: string, bench: Bench): string | null {
  const members = membersOf(bench.session);
  if (!a.code || !ACCUSABLE.has(a.code)) return a.code ? `${a.code} is not a fault evidence can prove` : 'no evidence was handed over';
  if (a.by !== by) return `the evidence names ${String(a.by)} as its accuser, but ${by} handed it over`;
  if (typeof a.against !== 'string' || a.against === by || !members.includes(a.against)) return `${String(a.against)} is not another member of the session`;
  if (a.protocol !== bench.protocol) return `the evidence is for protocol ${String(a.protocol)}, the run was ${bench.protocol}`;
  if (typeof a.session !== 'object' || a.session === null || digestOf(a.session) !== digestOf(bench.session)) return 'the evidence is for another session';
  const key = bench.signingKeyOf(a.against);
  if (!key) return `${a.against} has no key in the roster`;
  const e = (typeof a.evidence === 'object' && a.evidence !== null ? a.evidence : {}) as Accusation['evidence'];
  const sid = sessionIdOf(bench.session);
  const c = signedProblem(e.commitment, key, { sessionId: sid, epoch: bench.session.epoch, round: `${bench.protocol}.1`, from: a.against, to: BROADCAST });
  if (c) return `${a.against}'s round-1 broadcast: ${c}`;
  if (e.share === undefined) return null; // a fault of the commitment alone
  const s = signedProblem(e.share, key, { sessionId: sid, epoch: bench.session.epoch, round: `${bench.protocol}.2`, from: a.against, to: by });
  return s ? `${a.against}'s sub-share to ${by}: ${s}` : null;
}

type Header = Pick<Envelope, 'sessionId' | 'epoch' | 'round' | 'from' | 'to'>;

// A signed envelope or point-to-point statement, as the dealer made it for this place of this session.
function signedProblem(m: Envelope | DirectStatement | undefined, key: string, want: Header): string | null {
  if (typeof m !== 'object' || m === null) return 'missing';
  for (const k of ['sessionId', 'epoch', 'round', 'from', 'to'] as const) {
    if (m[k] !== want[k]) return `its ${k} is ${JSON.stringify(m[k])}, not ${JSON.stringify(want[k])}`;
  }
  const signed = 'payload' in m ? tryEnvelope(m) !== null && envelopeSignatureValid(key, m) : statementSignatureValid(key, m);
  return signed ? null : `not signed by ${want.from}`;
}

function tryEnvelope(m: unknown): Envelope | null {
  try {
    return checkShape(m);
  } catch {
    return null;
  }
}

function suiteOf(engine: string): Suite | undefined {
  return engine === ecdsaSuite.id ? ecdsaSuite : SUITES[engine];
}

// The ecdsa engine carries the Feldman protocol's payloads under `vss` (ecdsa/setup.ts).
const vssOf = (engine: string, payload: unknown): unknown => (engine === ecdsaSuite.id ? (payload as { vss?: unknown } | null)?.vss : payload);

/** Re-runs the accuser's check on the dealer's signed data: the dealer's fault, or null when it all fits. */
function faultOf(a: Accusation, bench: Bench): { code: string; message: string } | null {
  const { session } = bench;
  const suite = suiteOf(session.engine);
  if (!suite) return null;
  const commitment = vssOf(session.engine, a.evidence.commitment!.payload);
  const share = a.evidence.share === undefined ? undefined : vssOf(session.engine, a.evidence.share.body);
  const dealer = a.against;
  try {
    if (bench.protocol === 'dkg') {
      const o = { me: a.by, parties: session.participants, threshold: session.t };
      const c = decodeRound1(suite, session.t, dealer, idHex(suite, o.parties, dealer), commitment).commitment;
      if (a.evidence.share) checkDkgSubShare(suite, o, dealer, c, share);
    } else if (bench.protocol === 'refresh') {
      const c = decodeRefreshCommitment(suite, session.t, dealer, commitment);
      if (a.evidence.share) checkRefreshSubShare(suite, session.participants, a.by, dealer, c, share);
    } else if (bench.protocol === 'reshare' && bench.old) {
      const c = checkDealerCommitment(suite, { old: bench.old, dealers: session.dealers ?? [], threshold: session.t }, dealer, commitment);
      if (a.evidence.share) checkReshareSubShare(suite, session.participants, a.by, dealer, c, share);
    }
  } catch (e) {
    if (e instanceof KeyriteError && e.party === dealer) return { code: e.code, message: e.message };
  }
  return null;
}
