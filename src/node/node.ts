import { canonical, sha256Hex } from '../base/canonical.js';
import { KeyriteError, type ErrorCode } from '../base/errors.js';
import type { Workspace } from '../fs/workspace.js';
import type { Identity } from '../custody/identity.js';
import { openSealedShare } from '../custody/sealed.js';
import { sealShard, shardRoleName } from '../custody/shard.js';
import {
  banNoticeOf, dkgParty, publicPackageOf, refreshParty, repairParty, reshareParty, signParty, sessionIdOf,
  type Envelope, type PartySetup, type ProtocolParty, type Roster as ProtocolRoster, type SessionParams, type Share,
} from '../engine/index.js';
import { signEntry, type EntryContent, type EntryDraft } from '../evidence/entry.js';
import { readState } from '../audit/state.js';
import type { CustodyState } from '../state/fold.js';
import { assignmentOf, type KeyRecord } from '../state/key-record.js';
import { member, requireSealed } from '../state/roster.js';
import type { HandedIn, NodeClient, ProtocolKind, Recorded, RoundReply, StartInputs } from './client.js';
import { loadNodeIdentity } from './identity.js';
import { RUN_LIFETIME_MS } from './lifetime.js';
import { checkRenewal, checkRequest, type RenewalOp } from './request.js';
import { SessionLog } from './sessions.js';
import { BanLog } from './bans.js';
import { AnchorFile, type Anchor } from './anchor.js';
import { checkHolding, ShareStore, type Holding } from './store.js';
import { requireRotated } from '../state/rotation.js';

// A signing node: its identity, its encrypted share store and session log (all in its home
// directory, nodes/<id>/ by default, or one kept apart from the workspace), and the protocol
// runs it is in. It trusts nobody who drives it: the roster and key records come from the
// custody state folded from the workspace's signed transcript, every session must name the
// roster in force, and a signing run starts only after the request checks out, once per
// session, and lives a bounded time. What it does to custody it signs itself, as transcript
// entries the coordinator appends.

type Party = ProtocolParty<Share> | ProtocolParty<string>;

interface Run {
  kind: ProtocolKind;
  keyId: string;
  party: Party;
  expiry: NodeJS.Timeout;
}

export interface NodeOptions {
  /** The node's own directory: identity, shares, session log (default: nodes/<id>/ in the workspace). */
  home?: string;
  runLifetimeMs?: number;
  /**
   * The custody state, for a node in the coordinator's own process: the very fold the ceremony
   * keeps, entry by entry, of the same transcript. A node on its own loads it from the workspace.
   */
  state?: () => CustodyState;
}

const refuse = (node: string, code: ErrorCode, message: string) => new KeyriteError(code, `node ${node}: ${message}`, { node });

/**
 * How the node starts each kind of run: the checks that must pass before any secret state
 * exists, and the engine party. A new protocol is one entry here and its inputs in client.ts.
 */
type Starter<K extends ProtocolKind> = (node: SigningNode, state: CustodyState, session: SessionParams, inputs: StartInputs[K]) => Promise<(setup: PartySetup) => Party>;

const STARTERS: { [K in ProtocolKind]: Starter<K> } = {
  dkg: async () => (setup) => dkgParty(setup),
  sign: (node, state, session, inputs) => node.prepareSign(state, session, inputs),
  refresh: (node, state, session, inputs) => node.prepareRenewal(state, session, 'refresh', inputs, (setup, share) => refreshParty(setup, { share: share! })),
  reshare: (node, state, session, inputs) => node.prepareRenewal(state, session, 'reshare', inputs, (setup, share, r) => reshareParty(setup, { old: r.publicPackage, share })),
  repair: (node, state, session, inputs) => node.prepareRenewal(state, session, 'repair', inputs, (setup, share, r) => repairParty(setup, { key: r.publicPackage, share })),
};

/** The entry a node signs when it keeps the share a run made. */
const KEEP_STEP: Partial<Record<ProtocolKind, string>> = { dkg: 'keygen.share', refresh: 'refresh.share', reshare: 'reshare.share', repair: 'repair.share' };

export class SigningNode implements NodeClient {
  private readonly runs = new Map<string, Run>();
  // Keys with a signing run, reserved before the first await so two concurrent requests cannot both start one.
  private readonly signing = new Set<string>();

  private constructor(
    private readonly ws: Workspace,
    private readonly identity: Identity,
    private readonly store: ShareStore,
    private readonly sessions: SessionLog,
    private readonly bans: BanLog,
    private readonly anchor: AnchorFile,
    private readonly runLifetimeMs: number,
    private readonly shared: (() => CustodyState) | undefined,
  ) {}

  static async open(ws: Workspace, id: string, o: NodeOptions = {}): Promise<SigningNode> {
    const home = o.home ?? ws.nodeDir(id);
    const identity = await loadNodeIdentity(home, id);
    return new SigningNode(ws, identity, new ShareStore(home, identity), SessionLog.of(home), BanLog.of(home), AnchorFile.of(home), o.runLifetimeMs ?? RUN_LIFETIME_MS, o.state);
  }

  get id(): string {
    return this.identity.name;
  }

  /**
   * The custody state from the workspace's transcript: the only source of the roster and key
   * records. It must extend the history this node accepted before (anchor.ts).
   */
  async state(): Promise<CustodyState> {
    const state = this.shared?.() ?? (await readState(this.ws));
    let anchor: Anchor | null;
    try {
      anchor = this.anchor.read();
    } catch (e) {
      throw refuse(this.id, 'DAMAGED_FILE', (e as Error).message);
    }
    if (anchor && (state.genesis !== anchor.genesis || !state.holdsLine(anchor.head))) {
      throw refuse(this.id, 'HISTORY_NOT_EXTENDED', `the workspace's history does not extend the one it accepted (genesis ${anchor.genesis.slice(0, 16)}…, head ${anchor.head.slice(0, 16)}…): it was rewound or replaced`);
    }
    return state;
  }

  /** The key as the fold says it is; a retired or compromised key is refused: it never signs or exports again. */
  private activeKey(state: CustodyState, keyId: string): KeyRecord {
    const record = state.key(keyId);
    if (record.status !== 'active') throw refuse(this.id, 'KEY_NOT_ACTIVE', `key ${record.keyId} is ${record.status}; ${this.id} no longer signs with or exports it`);
    return record;
  }

  async holdings(): Promise<Holding[]> {
    await this.dropUnrecorded(await this.state());
    return this.store.holdings();
  }

  /**
   * Drops any share this node kept of a key at an epoch the fold never reached: one a refresh or
   * reshare made, interrupted before its result was recorded. The epoch in force is untouched, so
   * the old shares keep working until a new epoch is complete (docs/ARCHITECTURE.md §8).
   * Absence of a result proves nothing in a history cut back to before it (the anchor only holds
   * the head before the node's own entry), so the node drops only the very share whose entry the
   * history shows in a ceremony that has closed (CustodyState.closedShares): that ceremony's
   * result, if any, is in it.
   */
  private async dropUnrecorded(state: CustodyState): Promise<void> {
    for (const h of this.store.holdings()) {
      const r = state.keys.get(h.keyId);
      const closed = state.closedShare(this.id, h.keyId, h.epoch);
      if (!r || h.epoch <= r.epoch || closed === undefined) continue;
      const share = await this.store.get(h);
      if (share.verifyingShares[share.party] === closed) this.store.remove(h);
    }
  }

  async start<K extends ProtocolKind>(kind: K, session: SessionParams, inputs: StartInputs[K]): Promise<Envelope[]> {
    const starter = STARTERS[kind] as Starter<K> | undefined;
    if (!starter) throw refuse(this.id, 'BAD_REQUEST', `no protocol ${String(kind)}; known: ${Object.keys(STARTERS).join(', ')}`);
    const state = await this.state();
    const make = await starter(this, state, session, inputs);
    return this.begin(kind, state, session, make);
  }

  /** Checks a signing run before it starts: the key, the share handed in, the custodian's request. */
  async prepareSign(state: CustodyState, session: SessionParams, s: StartInputs['sign']): Promise<(setup: PartySetup) => Party> {
    if (this.signing.has(session.keyId)) throw refuse(this.id, 'NODE_BUSY', `already signing with key ${session.keyId}; one signing run per key at a time`);
    this.signing.add(session.keyId);
    try {
      const sessionId = sessionIdOf(session);
      if (this.sessions.has(sessionId)) {
        throw refuse(this.id, 'SESSION_REUSED', `it already started a signing run in session ${sessionId}; a signing request is good for one run only, so start a new sign ceremony`);
      }
      const record = this.activeKey(state, session.keyId);
      const what = `the share handed to ${this.id}`;
      const share = await openSealedShare(this.identity.ageIdentity, Buffer.from(s.share, 'base64'), what, record.engine);
      const message = Buffer.from(s.message, 'hex');
      const roster = state.requireRoster();
      checkRequest(s.request, { node: this.id, record, session, share, message, custodianKey: (name) => member(roster, name, 'custodian').signingKey });
      requireRotated(state, s.request.custodian, { node: this.id });
      this.matchRecord(share, record, what);
      this.sessions.add(sessionId); // durable before any nonce exists
      const banned = this.bans.of(session.keyId, session.epoch);
      return (setup) => signParty(setup, { share, message, banned });
    } catch (e) {
      this.signing.delete(session.keyId);
      throw e;
    }
  }

  /**
   * Checks a run that renews or rebuilds shares: the key active at the session's epoch, and the
   * share handed in (when this node deals or helps) under its custodian's signed request for
   * this very run. A session starts once only, like a signing session.
   */
  async prepareRenewal(
    state: CustodyState, session: SessionParams, op: RenewalOp, given: Partial<HandedIn>, make: (setup: PartySetup, share: Share | undefined, r: KeyRecord) => Party,
  ): Promise<(setup: PartySetup) => Party> {
    const record = this.activeKey(state, session.keyId);
    if (record.epoch !== session.epoch) throw refuse(this.id, 'WRONG_EPOCH', `key ${record.keyId} is at epoch ${record.epoch}; the ${op} session is for epoch ${session.epoch}`);
    const sessionId = sessionIdOf(session);
    if (this.sessions.has(sessionId)) throw refuse(this.id, 'SESSION_REUSED', `it already started a run in session ${sessionId}; start a new ${op} ceremony`);
    if (op === 'refresh' && !given.share) throw refuse(this.id, 'BAD_REQUEST', 'a refresh needs every holder\'s share handed in');
    let share: Share | undefined;
    if (given.share) {
      if (!given.request) throw refuse(this.id, 'REQUEST_REFUSED', `a share handed in for a ${op} needs its custodian's signed request`);
      const what = `the share handed to ${this.id}`;
      share = await openSealedShare(this.identity.ageIdentity, Buffer.from(given.share, 'base64'), what, record.engine);
      const roster = state.requireRoster();
      checkRenewal(given.request, op, { node: this.id, record, session, share, custodianKey: (name) => member(roster, name, 'custodian').signingKey });
      requireRotated(state, given.request.custodian, { node: this.id });
      this.matchRecord(share, record, what);
    }
    await this.dropUnrecorded(state);
    this.sessions.add(sessionId); // durable before any secret state exists
    return (setup) => make(setup, share, record);
  }

  async receive(sessionId: string, incoming: Envelope[]): Promise<RoundReply> {
    const run = this.runs.get(sessionId);
    if (!run) throw refuse(this.id, 'NO_SUCH_RUN', `no run for session ${sessionId}: it finished, was aborted, or outlived its ${this.runLifetimeMs / 1000}-second limit`);
    let envelopes: Envelope[];
    try {
      envelopes = await run.party.receive(incoming);
    } catch (e) {
      this.drop(sessionId); // the party has aborted and wiped itself; nothing is kept
      const ban = run.kind === 'sign' ? banNoticeOf(e) : null;
      if (ban) this.bans.add(run.keyId, run.party.session.epoch, ban);
      throw e;
    }
    if (run.party.expecting !== 'done') return { envelopes, done: false };
    const result = run.party.result();
    if (run.kind === 'sign') {
      this.drop(sessionId); // the share handed in for this run is forgotten with it
      return { envelopes, done: true, output: result };
    }
    // A dealer or helper that makes no share of its own forgets the run, and the share handed in with it.
    if (result === null) this.drop(sessionId);
    return { envelopes, done: true, output: result === null ? null : publicPackageOf(result as Share) };
  }

  async keep(sessionId: string, draft: EntryDraft): Promise<Recorded & { holding: Holding }> {
    const run = this.runs.get(sessionId);
    const step = run && KEEP_STEP[run.kind];
    if (!run || !step || run.party.expecting !== 'done') throw refuse(this.id, 'NO_SUCH_RUN', `no finished run that made a share for session ${sessionId}`);
    const share = run.party.result() as Share;
    const entry = await this.sign(draft, {
      step,
      params: { keyId: share.keyId, epoch: share.epoch, party: share.party, sessionId },
      result: { groupPublicKey: share.groupPublicKey, verifyingShare: share.verifyingShares[share.party] },
    });
    this.drop(sessionId);
    return { holding: await this.store.put(share), entry };
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

  async exportShard(given: Holding, to: string, draft: EntryDraft): Promise<Recorded & { custodian: string; shard: string }> {
    const h = checkHolding(given, this.id);
    const state = await this.state();
    const record = this.activeKey(state, h.keyId);
    if (record.epoch !== h.epoch) throw refuse(this.id, 'WRONG_EPOCH', `key ${h.keyId} is at epoch ${record.epoch}, not ${h.epoch}`);
    const a = assignmentOf(record, { node: this.id });
    // Only to the recipient the key record pins for the party (docs/ARCHITECTURE.md §6, "Key
    // records"): never another one the caller names, and only while the roster in force still
    // holds it for that custodian.
    const enrolled = member(state.requireRoster(), a.custodian, 'custodian');
    if (to !== a.recipient) {
      throw refuse(this.id, 'RECIPIENT_MISMATCH', `party ${a.party} of key ${h.keyId} is pinned to custodian ${a.custodian}'s recipient ${a.recipient}, not ${to} as asked; nothing was encrypted`);
    }
    if (enrolled.recipient !== a.recipient) {
      throw refuse(this.id, 'RECIPIENT_MISMATCH', `party ${a.party} of key ${h.keyId} is pinned to custodian ${a.custodian}'s recipient ${a.recipient}, but the roster in force holds ${enrolled.recipient} for ${a.custodian}; nothing was encrypted`);
    }
    const share = await this.store.get(h);
    this.matchRecord(share, record, 'its share');
    const bytes = await sealShard({ v: 1, kind: 'keyrite-shard', engine: record.engine, keyId: h.keyId, epoch: h.epoch, party: a.party, node: this.id, custodian: a.custodian, share }, a.recipient);
    const shard = Buffer.from(bytes).toString('base64');
    const entry = await this.sign(draft, {
      step: 'export.shard',
      params: { keyId: h.keyId, epoch: h.epoch, party: a.party, node: this.id, custodian: a.custodian, recipient: a.recipient },
      subjects: [{ name: shardRoleName(a.custodian, h.keyId, h.epoch), sha256: sha256Hex(bytes) }],
    });
    return { custodian: a.custodian, shard, entry };
  }

  /**
   * Deletes only a share whose shard the history it verified records as exported by this node
   * and acknowledged by the custodian's receipt for that very shard (docs/ARCHITECTURE.md §8).
   */
  async deleteShare(given: Holding, draft: EntryDraft): Promise<Recorded> {
    const h = checkHolding(given, this.id);
    const state = await this.state();
    const a = assignmentOf(state.key(h.keyId), { node: this.id });
    const shard = state.exports.get(shardRoleName(a.custodian, h.keyId, h.epoch));
    if (!shard) {
      throw refuse(this.id, 'NOT_PERMITTED', `it keeps its share of ${h.keyId} at epoch ${h.epoch}: no exported shard of party ${a.party} is recorded, so deleting it would lose the party`);
    }
    const receipt = state.receipt(h.keyId, h.epoch, a.party);
    if (receipt?.custodian !== a.custodian || receipt.shard !== shard.sha256) {
      throw refuse(this.id, 'NOT_PERMITTED', `it keeps its share of ${h.keyId} at epoch ${h.epoch}: no receipt from ${a.custodian} for the shard of party ${a.party} is recorded, so nobody has shown the shard opens`);
    }
    const entry = await this.sign(draft, { step: 'node.delete', params: { keyId: h.keyId, epoch: h.epoch } });
    this.store.remove(h);
    return { entry };
  }

  async attest(draft: EntryDraft): Promise<Recorded & { holds: Holding[] }> {
    await this.dropUnrecorded(await this.state());
    const inRuns = [...this.runs.values()].map((r) => ({ keyId: r.keyId, epoch: r.party.session.epoch }));
    const holds = [...this.store.holdings(), ...inRuns];
    // The parties it refuses to sign with are part of its claim, so the transcript records every ban.
    const bans = this.bans.all();
    return { holds, entry: await this.sign(draft, { step: 'node.attest', result: { holds, ...(bans.length ? { bans } : {}) } }) };
  }

  /** Signs one of the node's own entries, only under the roster the node itself knows to be in force. */
  private async sign(draft: EntryDraft, content: EntryContent): Promise<Recorded['entry']> {
    const state = await this.state();
    if (draft.roster !== state.rosterDigest) throw refuse(this.id, 'SESSION_MISMATCH', 'the entry it is asked to sign names another roster than the one in force');
    // The entry goes right after the newest line this node has verified — one place in the chain,
    // never a future one — and from now on it accepts no history without that line.
    if (draft.prev === null || draft.prev !== state.head || state.genesis === null) {
      throw refuse(this.id, 'SESSION_MISMATCH', 'the entry it is asked to sign does not follow the last line of the history it verified');
    }
    const entry = signEntry(draft, this.identity, content);
    this.anchor.write({ genesis: state.genesis, head: draft.prev });
    return entry;
  }

  private begin(kind: ProtocolKind, state: CustodyState, session: SessionParams, make: (setup: PartySetup) => Party): Promise<Envelope[]> {
    const sessionId = sessionIdOf(session);
    if (this.runs.has(sessionId)) throw refuse(this.id, 'NODE_BUSY', `session ${sessionId} is already running`);
    let party: Party;
    try {
      party = make({ session, keys: { name: this.id, signingKey: this.identity.signing, ageIdentity: this.identity.ageIdentity }, roster: this.protocolRoster(state, session) });
    } catch (e) {
      if (kind === 'sign') this.signing.delete(session.keyId); // refused before any run existed: the key is free again
      throw e;
    }
    // Past its lifetime the run is aborted, which wipes its share and nonces; unref'd, so a timer never keeps a process alive.
    const expiry = setTimeout(() => void this.abort(sessionId), this.runLifetimeMs).unref();
    this.runs.set(sessionId, { kind, keyId: session.keyId, party, expiry });
    return party.start().catch((e: unknown) => {
      this.drop(sessionId);
      throw e;
    });
  }

  // Defence in depth: whatever share the node uses must describe the key exactly as recorded
  // (group key, every verifying share, epoch), so a share relabelled from another epoch is refused.
  private matchRecord(share: Share, record: KeyRecord, what: string): void {
    if (canonical(publicPackageOf(share)) !== canonical(record.publicPackage)) {
      throw refuse(this.id, 'WRONG_KEY', `${what} of ${record.keyId} does not match the key record's public data; it is from another key or epoch`);
    }
  }

  // The nodes' keys from the sealed roster; a session that names another roster is refused.
  private protocolRoster(state: CustodyState, session: SessionParams): ProtocolRoster {
    const roster = requireSealed(state.requireRoster());
    if (session.rosterDigest !== state.rosterDigest) throw refuse(this.id, 'SESSION_MISMATCH', 'the session names another roster than the one in force');
    return Object.fromEntries(roster.nodes.map((n) => [n.name, { signingPublicKey: n.signingKey, ageRecipient: n.recipient }]));
  }
}
