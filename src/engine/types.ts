// The one engine interface. Everything that crosses a process boundary (round payloads, shares,
// public packages, signatures) is plain JSON: hex strings, numbers, arrays, string-keyed objects.
// Per-party round state (polynomial coefficients, nonces) stays inside the Rounds object, in
// memory only, and is wiped on finish or abort; it is never serialized.

export type EngineId = 'ed25519' | 'bip340' | 'ecdsa';
export const ENGINE_IDS: readonly EngineId[] = ['ed25519', 'bip340', 'ecdsa'];

/** One party's key share. Secret: lives only in memory or age ciphertext (docs/ARCHITECTURE.md §2). */
export type Share = {
  v: 1;
  engine: string;
  keyId: string;
  epoch: number;
  /** This holder's name; its FROST identifier is its 1-based position in `parties`. */
  party: string;
  /** Signing share scalar, hex in the suite's scalar encoding. */
  secret: string;
  /** ed25519: 32-byte point; bip340: 32-byte x-only output key Q (even y). */
  groupPublicKey: string;
  /**
   * bip340 only: x(P), the 32-byte x-only BIP-341 internal key (hex) whose key-path-only tweak
   * is Q; the same through every refresh and reshare. Absent for ed25519 and ecdsa.
   */
  internalKey?: string;
  /** Every holder's public verifying share (secret·G), hex point. */
  verifyingShares: Record<string, string>;
  threshold: number;
  /** All holders, in identifier order. */
  parties: string[];
  /** ecdsa only: this holder's pairwise OT setup with every other holder (secret, like `secret`). */
  pairwise?: Record<string, PairwiseSetup>;
};

/**
 * ecdsa: one holder's base-OT outputs towards one peer (DKLs23 §3 setup), hex. `send` is for
 * multiplications where this holder is the OT-extension sender (KOS Δ and the seeds it chose),
 * `receive` where it is the receiver (both seeds of every base OT).
 */
export type PairwiseSetup = { send: { delta: string; seeds: string }; receive: { seeds0: string; seeds1: string } };

/** The group's public data: a share without `party`, `secret` and `pairwise`. Stored in key records. */
export type PublicPackage = Omit<Share, 'party' | 'secret' | 'pairwise'>;

/** Emergency recovery output (docs/ARCHITECTURE.md §3). Never print it; encrypt it to a named recipient. */
export type RecoveredKey = {
  engine: string;
  keyId: string;
  epoch: number;
  publicKey: string;
  /** The group secret scalar, hex. */
  scalar: string;
  /** What `scalar` is, so nobody mistakes an ed25519 scalar for an RFC 8032 seed. */
  kind: string;
};

/** A round-2 output: one payload for everyone, or one private payload per recipient. */
export type Round2Out = { broadcast: unknown } | { direct: Record<string, unknown> };

/** One round's output in a protocol of any length: a broadcast, private payloads, or both. */
export type RoundOut = { broadcast?: unknown; direct?: Record<string, unknown> };
/** What one party received in one round, keyed by sender (its own broadcast included). */
export type RoundIn = { broadcast: Record<string, unknown>; direct: Record<string, unknown> };
/**
 * Who sends in one round, who receives it, and whether it carries broadcasts, private payloads or
 * both (a sender then sends one broadcast and one private payload to every receiver). Round 1's
 * `receivers` is not consulted: every member receives round 1, for the echo.
 */
export type RoundPlan = { senders: readonly string[]; receivers: readonly string[]; broadcast: boolean; direct: boolean };

/**
 * One party's side of a two-round protocol: round 1 is a broadcast, then (in protocol.ts) an echo
 * of round 1, then round 2 (broadcast or direct). Inputs are keyed by sender name and are
 * untrusted: each implementation validates them and blames the sender.
 */
export interface Rounds<Out> {
  readonly protocol: 'dkg' | 'sign' | 'refresh' | 'reshare';
  readonly me: string;
  readonly round1Senders: readonly string[];
  readonly round2Senders: readonly string[];
  readonly round2Receivers: readonly string[];
  readonly round2Direct: boolean;
  /** Round-1 broadcast, or null when this party does not send in round 1. */
  round1(): unknown;
  /** Validates everyone's round 1 (own included); round-2 output, or null when not a sender. */
  round2(round1: Record<string, unknown>): Round2Out | null;
  /** Validates round 2 (own included) and returns the result; null when not a receiver. */
  finish(round2: Record<string, unknown>): Out | null;
  /** Best-effort erasure of secret round state; called on finish and on abort. */
  wipe(): void;
}

/**
 * One party's side of a protocol of any number of rounds (DKLs23 signing has three). Round 1 is
 * received by every member and followed by the echo of its broadcasts (protocol.ts); `plan[k−1]`
 * describes round k. `send(1, empty)` gives round 1; `send(k + 1, in_k)` validates round k's
 * inputs and gives round k + 1 (null when not a sender); `finish(in_N)` validates the last round
 * and returns the result (null when not a receiver). Inputs are untrusted, as in `Rounds`.
 */
export interface MultiRounds<Out> {
  readonly protocol: 'dkg' | 'sign' | 'refresh' | 'reshare' | 'repair';
  readonly me: string;
  readonly plan: readonly RoundPlan[];
  send(round: number, received: RoundIn): RoundOut | null;
  finish(received: RoundIn): Out | null;
  wipe(): void;
}

/** Random source; tests pass a fixed one to reproduce RFC 9591 vectors. */
export type Rng = (bytesLength?: number) => Uint8Array<ArrayBuffer>;

/** `sessionId` (docs/ARCHITECTURE.md §5) binds an engine's own hashes to the run; the ecdsa engine requires it. */
export type DkgOptions = { me: string; parties: string[]; threshold: number; rng?: Rng; sessionId?: string };
export type SignOptions = {
  share: Share;
  signers: string[];
  message: Uint8Array;
  rng?: Rng;
  sessionId?: string;
  /** ecdsa: parties this holder has seen fail a consistency check since the last refresh; refused as co-signers. */
  banned?: readonly string[];
};
export type RefreshOptions = { share: Share; rng?: Rng; sessionId?: string };
export type ReshareOptions = {
  me: string;
  /** The old public package (key record). */
  old: PublicPackage;
  /** This party's old share, when it is one of the dealers. */
  share?: Share;
  /** Old holders who deal (at least the old threshold). */
  dealers: string[];
  /** New holders, in new identifier order. */
  holders: string[];
  threshold: number;
  rng?: Rng;
  sessionId?: string;
};

/**
 * `SignRounds`: FROST signs in two rounds (`Rounds`), DKLs23 ecdsa in three (`MultiRounds`);
 * `ShareRounds` likewise for DKG, refresh and reshare (ecdsa adds a round for its OT setup).
 */
export interface Engine<
  SignRounds extends Rounds<string> | MultiRounds<string> = Rounds<string>,
  ShareRounds extends Rounds<Share> | MultiRounds<Share> = Rounds<Share>,
> {
  readonly id: string;
  dkg(o: DkgOptions): ShareRounds;
  sign(o: SignOptions): SignRounds;
  refresh(o: RefreshOptions): ShareRounds;
  reshare(o: ReshareOptions): ShareRounds;
  /** Emergency recovery: t shares → group secret scalar, checked against the group key. */
  combine(shares: Share[]): RecoveredKey;
  /** Verifies a final signature (hex) over `message` under the group key (hex). */
  verify(publicKey: string, message: Uint8Array, signature: string): boolean;
  /** Parses and checks a share (shape, encodings, secret·G = its verifying share). */
  parseShare(value: unknown, what: string): Share;
  parsePublicPackage(value: unknown, what: string): PublicPackage;
  publicPackage(share: Share): PublicPackage;
}

/** Any engine, whatever its signing rounds: what the registry returns for an id read from a file. */
export type AnyEngine = Engine<Rounds<string> | MultiRounds<string>, Rounds<Share> | MultiRounds<Share>>;
