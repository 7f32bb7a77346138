import { canonical } from '../base/canonical.js';
import { KeyriteError, type ErrorCode } from '../base/errors.js';
import type { Workspace } from '../fs/workspace.js';
import type { Identity } from '../custody/identity.js';
import { signObject } from '../base/ed25519.js';
import {
  dkgParty, publicPackageOf, signParty, sessionIdOf,
  type Envelope, type PartySetup, type ProtocolParty, type Roster as ProtocolRoster, type SessionParams, type Share,
} from '../engine/index.js';
import { loadRoster, member, requireSealed, rosterDigest } from '../state/roster.js';
import type { Attestation, DkgStart, NodeClient, RoundReply, SignStart } from './client.js';
import { loadNodeIdentity } from './identity.js';
import { assignmentOf, loadKeyRecord, type KeyRecord } from '../state/key-record.js';
import { checkRequest } from './request.js';
import { openSealedShare } from '../custody/sealed.js';
import { RUN_LIFETIME_MS } from './lifetime.js';
import { SessionLog } from './sessions.js';
import { sealShard } from '../custody/shard.js';
import { checkHolding, ShareStore, type Holding } from './store.js';

// A signing node: its identity, its encrypted share store, and the protocol runs it is in. It
// trusts nobody who drives it: the roster and key record come from the workspace, every session
// must name the roster in force, and a signing run starts only after the request checks out,
// once per session, and lives a bounded time.

interface Run {
  kind: 'dkg' | 'sign';
  keyId: string;
  party: ProtocolParty<Share> | ProtocolParty<string>;
  expiry: NodeJS.Timeout;
}


export interface NodeOptions {
  runLifetimeMs?: number;
}

const refuse = (node: string, code: ErrorCode, message: string) => new KeyriteError(code, `node ${node}: ${message}`, { node });

export class SigningNode implements NodeClient {
  private readonly runs = new Map<string, Run>();
  // Keys with a signing run, reserved before the first await so two concurrent requests cannot both start one.
  private readonly signing = new Set<string>();

  private constructor(
    private readonly ws: Workspace,
    private readonly identity: Identity,
    private readonly store: ShareStore,
    private readonly sessions: SessionLog,
    private readonly runLifetimeMs: number,
  ) {}

  static async open(ws: Workspace, id: string, o: NodeOptions = {}): Promise<SigningNode> {
    const identity = await loadNodeIdentity(ws, id);
    return new SigningNode(ws, identity, new ShareStore(ws, identity), SessionLog.of(ws, id), o.runLifetimeMs ?? RUN_LIFETIME_MS);
  }

  get id(): string {
    return this.identity.name;
  }

  async holdings(): Promise<Holding[]> {
    return this.store.holdings();
  }

  async startDkg(s: DkgStart): Promise<Envelope[]> {
    return this.begin('dkg', s.session, (setup) => dkgParty(setup));
  }

  async startSign(s: SignStart): Promise<Envelope[]> {
    const { session } = s;
    if (this.signing.has(session.keyId)) throw refuse(this.id, 'NODE_BUSY', `already signing with key ${session.keyId}; one signing run per key at a time`);
    this.signing.add(session.keyId);
    try {
      const sessionId = sessionIdOf(session);
      if (this.sessions.has(sessionId)) {
        throw refuse(this.id, 'SESSION_REUSED', `it already started a signing run in session ${sessionId}; a signing request is good for one run only, so start a new sign ceremony`);
      }
      const record = loadKeyRecord(this.ws, session.keyId);
      if (record.status !== 'active') throw refuse(this.id, 'KEY_NOT_ACTIVE', `key ${record.keyId} is ${record.status}`);
      const what = `the share handed to ${this.id}`;
      const share = await openSealedShare(this.identity.ageIdentity, Buffer.from(s.share, 'base64'), what, record.engine);
      const message = Buffer.from(s.message, 'hex');
      const roster = loadRoster(this.ws);
      checkRequest(s.request, { node: this.id, record, session, share, message, custodianKey: (name) => member(roster, name, 'custodian').signingKey });
      this.matchRecord(share, record, what);
      this.sessions.add(sessionId); // durable before any nonce exists
      return await this.begin('sign', session, (setup) => signParty(setup, { share, message }));
    } catch (e) {
      this.signing.delete(session.keyId);
      throw e;
    }
  }

  async receive(sessionId: string, incoming: Envelope[]): Promise<RoundReply> {
    const run = this.runs.get(sessionId);
    if (!run) throw refuse(this.id, 'NO_SUCH_RUN', `no run for session ${sessionId}: it finished, was aborted, or outlived its ${this.runLifetimeMs / 1000}-second limit`);
    let envelopes: Envelope[];
    try {
      envelopes = await run.party.receive(incoming);
    } catch (e) {
      this.drop(sessionId); // the party has aborted and wiped itself; nothing is kept
      throw e;
    }
    if (run.party.expecting !== 'done') return { envelopes, done: false };
    const result = run.party.result();
    if (run.kind === 'sign') {
      this.drop(sessionId); // the share handed in for this run is forgotten with it
      return { envelopes, done: true, output: result };
    }
    return { envelopes, done: true, output: publicPackageOf(result as Share) };
  }

  async keep(sessionId: string): Promise<Holding> {
    const run = this.runs.get(sessionId);
    if (run?.kind !== 'dkg' || run.party.expecting !== 'done') throw refuse(this.id, 'NO_SUCH_RUN', `no finished key generation for session ${sessionId}`);
    this.drop(sessionId);
    return this.store.put(run.party.result() as Share);
  }

  async abort(sessionId: string): Promise<void> {
    this.runs.get(sessionId)?.party.abort();
    this.drop(sessionId);
  }

  private drop(sessionId: string): void {
    const run = this.runs.get(sessionId);
    if (!run) return;
    this.runs.delete(sessionId);
    clearTimeout(run.expiry);
    if (run.kind === 'sign') this.signing.delete(run.keyId);
  }

  async exportShard(given: Holding): Promise<{ custodian: string; shard: string }> {
    const h = checkHolding(given, this.id);
    const record = loadKeyRecord(this.ws, h.keyId);
    if (record.epoch !== h.epoch) throw refuse(this.id, 'WRONG_EPOCH', `key ${h.keyId} is at epoch ${record.epoch}, not ${h.epoch}`);
    const a = assignmentOf(record, { node: this.id });
    const share = await this.store.get(h);
    this.matchRecord(share, record, 'its share');
    const recipient = member(loadRoster(this.ws), a.custodian, 'custodian').recipient;
    const bytes = await sealShard({ v: 1, kind: 'keyrite-shard', engine: record.engine, keyId: h.keyId, epoch: h.epoch, party: a.party, node: this.id, custodian: a.custodian, share }, recipient);
    return { custodian: a.custodian, shard: Buffer.from(bytes).toString('base64') };
  }

  async deleteShare(h: Holding): Promise<void> {
    this.store.remove(h);
  }

  /** What the node holds at rest and in any run in progress, signed by the node. A claim, not a proof (DESIGN §2). */
  async attest(): Promise<Attestation> {
    const inRuns = [...this.runs.values()].map((r) => ({ keyId: r.keyId, epoch: r.party.session.epoch }));
    const body = { v: 1 as const, node: this.id, holds: [...this.store.holdings(), ...inRuns], time: new Date().toISOString() };
    return { ...body, sig: signObject(this.identity.signing, body) };
  }

  private async begin(kind: Run['kind'], session: SessionParams, make: (setup: PartySetup) => Run['party']): Promise<Envelope[]> {
    const sessionId = sessionIdOf(session);
    if (this.runs.has(sessionId)) throw refuse(this.id, 'NODE_BUSY', `session ${sessionId} is already running`);
    const party = make({ session, keys: { name: this.id, signingKey: this.identity.signing, ageIdentity: this.identity.ageIdentity }, roster: this.protocolRoster(session) });
    // Past its lifetime the run is aborted, which wipes its share and nonces; unref'd, so a timer never keeps a process alive.
    const expiry = setTimeout(() => void this.abort(sessionId), this.runLifetimeMs).unref();
    this.runs.set(sessionId, { kind, keyId: session.keyId, party, expiry });
    try {
      return await party.start();
    } catch (e) {
      this.drop(sessionId);
      throw e;
    }
  }

  // Defence in depth: whatever share the node uses must describe the key exactly as recorded
  // (group key, every verifying share, epoch), so a share relabelled from another epoch is refused.
  private matchRecord(share: Share, record: KeyRecord, what: string): void {
    if (canonical(publicPackageOf(share)) !== canonical(record.publicPackage)) {
      throw refuse(this.id, 'WRONG_KEY', `${what} of ${record.keyId} does not match the key record's public data; it is from another key or epoch`);
    }
  }

  // The nodes' keys from the sealed roster; a session that names another roster is refused.
  private protocolRoster(session: SessionParams): ProtocolRoster {
    const roster = requireSealed(loadRoster(this.ws));
    if (session.rosterDigest !== rosterDigest(roster)) throw refuse(this.id, 'SESSION_MISMATCH', 'the session names another roster than the one in force');
    return Object.fromEntries(roster.nodes.map((n) => [n.name, { signingPublicKey: n.signingKey, ageRecipient: n.recipient }]));
  }
}
