import type { Envelope, SessionParams } from '../engine/index.js';
import type { SignedRequest } from './request.js';
import type { Holding } from './store.js';

// What a ceremony may ask of a signing node. Everything crossing it is plain JSON, so the same
// calls work in-process (the default: SigningNode itself) or over a transport to a node process.

export interface Attestation {
  v: 1;
  node: string;
  holds: Holding[];
  time: string;
  sig: string; // the node's Ed25519 signature over the attestation without `sig`
}

export interface DkgStart {
  session: SessionParams;
}

export interface SignStart {
  session: SessionParams;
  request: SignedRequest;
  /** The custodian's share, sealed to the node's own age recipient (see sealForNode): opened in the node's memory for this run only. */
  share: string;
  message: string; // hex
}

export interface RoundReply {
  envelopes: Envelope[];
  done: boolean;
  /** When done: DKG → the group's public package (the share stays with the node); sign → the signature, hex. */
  output?: unknown;
}

export interface NodeClient {
  readonly id: string;
  holdings(): Promise<Holding[]>;
  startDkg(s: DkgStart): Promise<Envelope[]>;
  startSign(s: SignStart): Promise<Envelope[]>;
  receive(sessionId: string, incoming: Envelope[]): Promise<RoundReply>;
  /** Stores the finished DKG share (encrypted to the node); until then it is in memory only. */
  keep(sessionId: string): Promise<Holding>;
  /** Drops a run and everything it holds. */
  abort(sessionId: string): Promise<void>;
  /** The node's share encrypted to the custodian its party is assigned to in the key record (base64 age file). */
  exportShard(h: Holding): Promise<{ custodian: string; shard: string }>;
  deleteShare(h: Holding): Promise<void>;
  attest(): Promise<Attestation>;
}
