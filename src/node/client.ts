import type { Envelope as DsseEnvelope } from '../base/dsse.js';
import type { Envelope, SessionParams } from '../engine/index.js';
import type { EntryDraft } from '../evidence/entry.js';
import type { RenewalRequest, SignedRequest } from './request.js';
import type { Holding } from './store.js';

// What a ceremony may ask of a signing node. Everything crossing it is plain JSON, so the same
// calls work in-process (the default: SigningNode itself) or over HTTP to a node process. A
// protocol run is one open call, start(kind, session, inputs): a new protocol is a new kind
// with its inputs here and its party in node.ts, not a new method in every transport. Whatever
// the node does to custody it records itself: it returns the transcript entry, signed with its
// own key, for the coordinator to append where the entry draft says.

/** The inputs each protocol run takes besides its session. */
export interface StartInputs {
  dkg: Record<string, never>;
  sign: {
    request: SignedRequest;
    /** The custodian's share, sealed to the node's own age recipient (see sealForNode): opened in the node's memory for this run only. */
    share: string;
    message: string; // hex
  };
  /** Every holder hands in its custodian's share. */
  refresh: HandedIn;
  /** A dealer (an old holder) hands in its custodian's share; a new holder that does not deal, nothing. */
  reshare: Partial<HandedIn>;
  /** A helper hands in its custodian's share; the node whose share is rebuilt, nothing. */
  repair: Partial<HandedIn>;
}

/** A custodian's share for a run that renews or rebuilds shares, with their signed request for it. */
export interface HandedIn {
  request: SignedRequest<RenewalRequest>;
  /** Sealed to the node's own age recipient (sealForNode), as for signing. */
  share: string;
}

export type ProtocolKind = keyof StartInputs;
export const PROTOCOL_KINDS: readonly ProtocolKind[] = ['dkg', 'sign', 'refresh', 'reshare', 'repair'];

export interface RoundReply {
  envelopes: Envelope[];
  done: boolean;
  /**
   * When done: sign → the signature, hex; a run that makes a share (DKG, refresh, reshare, repair)
   * → the group's public package (the share stays with the node), or null for a party that only dealt or helped.
   */
  output?: unknown;
}

/** A node's answer that changed what it holds: the transcript entry it signed about it. */
export interface Recorded {
  entry: DsseEnvelope;
}

export interface NodeClient {
  readonly id: string;
  holdings(): Promise<Holding[]>;
  start<K extends ProtocolKind>(kind: K, session: SessionParams, inputs: StartInputs[K]): Promise<Envelope[]>;
  receive(sessionId: string, incoming: Envelope[]): Promise<RoundReply>;
  /** Stores the share a finished run made (encrypted to the node) and signs its entry: keygen.share, refresh.share, reshare.share or repair.share. */
  keep(sessionId: string, draft: EntryDraft): Promise<Recorded & { holding: Holding }>;
  /** Drops a run and everything it holds. */
  abort(sessionId: string): Promise<void>;
  /**
   * The node's share encrypted to the custodian its party is assigned to (base64 age file), and
   * its export.shard entry; `to` is the recipient the coordinator expects, which must be the one
   * the key record pins for the party.
   */
  exportShard(h: Holding, to: string, draft: EntryDraft): Promise<Recorded & { custodian: string; shard: string }>;
  /** Deletes the node's copy and signs its node.delete entry. */
  deleteShare(h: Holding, draft: EntryDraft): Promise<Recorded>;
  /** What the node holds, at rest and in runs, as its signed node.attest entry. A claim, not a proof (docs/ARCHITECTURE.md §2). */
  attest(draft: EntryDraft): Promise<Recorded & { holds: Holding[] }>;
}
