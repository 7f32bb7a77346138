import { sha256Hex } from '../base/canonical.js';
import { KeyriteError, shown } from '../base/errors.js';
import { checkApproval } from './approval-request.js';
import { ApprovalLedger } from './approvals.js';
import { keyRecordBytes, rosterBytes } from './cache.js';
import { admitArtifacts, shardRoleName, type ArtifactRule, type RecordedArtifact } from './artifacts.js';
import { checkPublicIdentity, type PublicIdentity } from './identity.js';
import { advanceEpoch, assignmentOf, checkKeyId, checkKeyRecord, endKey, type KeyRecord } from './key-record.js';
import { checkPolicy } from './policy.js';
import { receiptOf, receiptSlot, type ShardReceipt } from './receipts.js';
import { checkRepaired, factsAfter, noFacts, requireBacking, SHARE_RESULTS, type CeremonyFacts, type NodeShare } from './ceremony-facts.js';
import { prepareRecovery, type RecoverySession } from './recovery.js';
import { prepareRotation, rewrappedKey, type RetiredIdentity, type RetiredShard, type RotationContext, type RotationIntent, type RotationState } from './rotation.js';
import { applyChange, enrol, findMember, member, rosterDigest, type Roster, type RosterChange } from './roster.js';

// Custody state as one fold over the transcript (docs/ARCHITECTURE.md, "The fold"): the roster
// in force, every key record, each custodian's current guardian set, the approvals not yet
// consumed and the last digest recorded for each artifact (by a step its script lets create or
// replace it: src/state/artifacts.ts). The writer applies each entry before
// it appends it (so it refuses what the fold rejects), the verifier applies each entry it
// checked, ceremonies and nodes decide from the state it yields — one `apply` for all of them,
// so they cannot drift apart. The files in the workspace (roster.json, keys/*.json) are caches
// written from this state, never read to decide.

/** One transcript entry as the fold sees it: already parsed and its signatures checked. */
export interface FoldEntry {
  ceremony: string;
  step: string;
  /** Name of the first signer. */
  actor: string;
  params: Record<string, unknown>;
  result: Record<string, unknown>;
  /** Artifact subjects (name → sha256), without the roster placeholder. */
  subjects: { name: string; sha256: string }[];
  /** The entry's time (ISO 8601): approvals expire against it. */
  time: string;
  /** The operation whose approvals this step consumes, when its script makes it a sensitive act, and how many it needs. */
  consumes?: { operation: string; count: number | 'policy' };
  /** Which artifact kinds the step's script lets it create, replace or check; none when absent. */
  artifacts?: ArtifactRule;
}

export interface GuardianSetState {
  custodian: string;
  setId: string;
  k: number;
  m: number;
  guardians: string[];
  /** The ceremony that recorded the set. */
  ceremony: string;
  /** The roster version in force when the set was recorded. */
  rosterVersion: number;
  /**
   * The custodian's Ed25519 key in that roster: the only key that may have signed the set (a key
   * replaced since counts for the sets recorded while it was current, and for no later one).
   */
  signingKey: string;
}

export class CustodyState implements RotationState {
  /** Undefined until the genesis entry is applied. */
  roster: Roster | undefined;
  rosterDigest = '';
  readonly keys = new Map<string, KeyRecord>();
  readonly guardianSets = new Map<string, GuardianSetState>();
  readonly approvals = new ApprovalLedger();
  /** Custodian recovery sessions by id: recorded, open once their start is sealed, then finished (recovery.ts). */
  readonly recoveries = new Map<string, RecoverySession>();
  readonly artifacts = new Map<string, RecordedArtifact>();
  /**
   * The shard each export.shard recorded, by role name: what a receipt must name, whatever a
   * later step records for the same name.
   */
  readonly exports = new Map<string, RecordedArtifact>();
  /** Custodians' export.receipt entries, by key, epoch and party (receipts.ts). */
  readonly receipts = new Map<string, ShardReceipt>();
  /** Custodians whose shards wait for a rotation, and why (rotation.ts). */
  readonly rotationDue = new Map<string, string>();
  /** Shards a rotation replaced, by sha256; identities it retired, by custodian (rotation.ts). */
  readonly retiredShards = new Map<string, RetiredShard>();
  readonly retiredIdentities = new Map<string, RetiredIdentity[]>();
  rotating: RotationIntent | undefined = undefined;
  /** What the ceremony folded last has established so far: what backs its effects on keys (ceremony-facts.ts). */
  facts: CeremonyFacts = noFacts();
  /**
   * The verifying share of each share a node signed it keeps, by node, key and epoch, once that
   * ceremony is closed — its own seal or abort, or the generator's record of its interruption
   * (closedBy): all its effects on the key are then in the history.
   * A node drops a share of an epoch the key never reached only on this (node.ts).
   */
  readonly closedShares = new Map<string, string>();
  /**
   * By cache ('roster', or a key id): the sha256 of the roster.json or keys/<K>.json text the
   * fold gave just before its latest change. A cache holding it is one change behind, as a crash
   * between an entry and the cache's rewrite leaves it, not tampered with (src/state/cache.ts).
   */
  readonly formerCaches = new Map<string, string>();
  entries = 0;
  /** The digest of the first line, and of the last one folded: the history's two ends. */
  genesis: string | null = null;
  head: string | null = null;
  /**
   * Every line's digest (64 hex digits each), in order, as one string: a history of 100k lines
   * is kept, snapshotted and revived (src/state/snapshot.ts) as one value, not 100k of them.
   */
  private lines = '';

  /** Records that the line with `digest` is the chain's next: the writer after each append, the verifier after each line. */
  chained(digest: string): void {
    this.genesis ??= digest;
    this.head = digest;
    this.lines += digest;
  }

  /** Whether the line with `digest` is in this history (a node's check that it was not rewound). */
  holdsLine(digest: string): boolean {
    if (!/^[0-9a-f]{64}$/.test(digest)) return false;
    for (let i = this.lines.indexOf(digest); i >= 0; i = this.lines.indexOf(digest, i + 1)) if (i % 64 === 0) return true;
    return false;
  }

  /** The roster in force; refuses before genesis. */
  requireRoster(): Roster {
    if (!this.roster) throw new KeyriteError('BAD_GENESIS', 'the transcript has no genesis entry: there is no roster in force');
    return this.roster;
  }

  /** The record of `keyId` as the transcript says it is now. */
  key(keyId: string): KeyRecord {
    const r = this.keys.get(checkKeyId(keyId));
    if (!r) throw new KeyriteError('BAD_KEY_ID', `no key ${keyId} in this workspace's transcript`);
    return r;
  }

  /** The custodian's receipt for `party`'s shard of `keyId` at `epoch`, if one is recorded. */
  receipt(keyId: string, epoch: number, party: string): ShardReceipt | undefined {
    return this.receipts.get(receiptSlot(keyId, epoch, party));
  }

  /** The verifying share `node` signed it keeps of `keyId` at `epoch`, in a ceremony now closed; undefined if none. */
  closedShare(node: string, keyId: string, epoch: number): string | undefined {
    return this.closedShares.get(`${node} ${keyId} ${epoch}`);
  }

  /** Which custodian each guardian serves, from the current sets. */
  servedBy(): Map<string, string> {
    const served = new Map<string, string>();
    for (const set of this.guardianSets.values()) for (const g of set.guardians) served.set(g, set.custodian);
    return served;
  }
}

/**
 * Checks one entry against `state` and returns the change it makes, to be committed once the
 * entry is durable (the writer) or at once (the verifier, `apply`). Throws a KeyriteError
 * saying why when the entry is not a valid transition; `state` is never changed by a refusal.
 */
export function prepare(state: CustodyState, e: FoldEntry): () => void {
  const roster = nextRoster(state, e);
  const key = nextKey(state, e);
  const set = e.step === 'custodian.setup' ? guardianSetOf(state, e) : undefined;
  const approvals = approvalsOf(state, e);
  checkExport(state, e);
  const receipt = e.step === 'export.receipt' ? receiptOf(state.key(shown(e.params.keyId)), e, (name) => state.exports.get(name)) : undefined;
  const recovery = prepareRecovery(state.recoveries, { ...e, roster: state.roster ?? roster, sets: state.guardianSets, consumes: e.consumes });
  const rotation = state.roster ? prepareRotation(state, rotationContext(state, state.roster), e) : undefined;
  const changed = admitArtifacts({ ceremony: e.ceremony, step: e.step, subjects: e.subjects, rule: e.artifacts }, (name) => state.artifacts.get(name));
  // approvalsOf has checked the quorum an act consumes; factsAfter counts it for the act itself.
  const facts = factsAfter(state.facts, e, e.consumes?.operation);
  if (e.step === 'repair.share') checkRepaired(state.key(shown(e.params.keyId)), e, facts);
  requireBacking(facts, e, SHARE_RESULTS.includes(e.step) ? key : undefined);
  const closed = closedBy(state, e, facts);
  return () => {
    state.facts = facts;
    if (roster !== state.roster) {
      if (state.roster) state.formerCaches.set('roster', sha256Hex(rosterBytes(state.roster)));
      state.roster = roster;
      state.rosterDigest = rosterDigest(roster);
    }
    if (key) {
      const old = state.keys.get(key.keyId);
      if (old) state.formerCaches.set(key.keyId, sha256Hex(keyRecordBytes(old)));
      state.keys.set(key.keyId, key);
    }
    if (set) state.guardianSets.set(set.custodian, set);
    approvals?.();
    if (receipt) state.receipts.set(receiptSlot(receipt.keyId, receipt.epoch, receipt.party), receipt);
    recovery?.();
    rotation?.();
    for (const s of changed) state.artifacts.set(s.name, { sha256: s.sha256, ceremony: e.ceremony, step: e.step });
    if (e.step === 'export.shard') for (const s of changed) state.exports.set(s.name, { sha256: s.sha256, ceremony: e.ceremony, step: e.step });
    if (e.step === 'repair.share') forgetLostShard(state, state.key(shown(e.params.keyId)), e.actor);
    for (const [node, s] of closed) state.closedShares.set(`${node} ${shown(s.keyId)} ${shown(s.epoch)}`, shown(s.verifyingShare));
    state.entries++;
  };
}

/**
 * After a repair.share the party's node holds its share again and the shard on record is the lost
 * one: its export, artifact and receipt are forgotten, so the rebuilt share is exported afresh
 * (and, after an interruption, by a plain export) and the node deletes it only after a new receipt.
 */
function forgetLostShard(state: CustodyState, r: KeyRecord, node: string): void {
  const a = assignmentOf(r, { node });
  const role = shardRoleName(a.custodian, r.keyId, r.epoch);
  state.exports.delete(role);
  state.artifacts.delete(role);
  state.receipts.delete(receiptSlot(r.keyId, r.epoch, a.party));
}

/** The steps that close a ceremony (the writer's and the verifier's rule: src/audit/policy.ts). */
const CLOSING_STEPS = ['ceremony.seal', 'ceremony.abort'];

/**
 * The shares kept in the ceremony `e` closes: its own seal or abort (`facts`: its facts after
 * `e`), or a crash's record, ceremony.interrupted, naming the ceremony folded last, when the
 * generator records it (only the generator runs the ceremonies that keep shares, so nobody else's
 * record can close one on a history cut back to before its result). None otherwise.
 */
function closedBy(state: CustodyState, e: FoldEntry, facts: CeremonyFacts): Map<string, NodeShare> {
  if (CLOSING_STEPS.includes(e.step)) return facts.shares;
  const byGenerator = state.roster !== undefined && findMember(state.roster, e.actor)?.role === 'generator';
  if (e.step === 'ceremony.interrupted' && byGenerator && e.params.ceremony === state.facts.ceremony) return state.facts.shares;
  return new Map();
}

/** Checks and applies one entry; see prepare. */
export function apply(state: CustodyState, e: FoldEntry): void {
  prepare(state, e)();
}

function nextRoster(state: CustodyState, e: FoldEntry): Roster {
  if (!state.roster) {
    if (e.step !== 'ceremony.start') throw new KeyriteError('BAD_GENESIS', `the first entry is ${e.step}, not the genesis ceremony.start`);
    return genesisRoster(e.params);
  }
  const r = state.roster;
  switch (e.step) {
    case 'roster.enrol': {
      if (r.version !== 0) throw new KeyriteError('ROSTER_SEALED', `roster.enrol after the roster was sealed (version ${r.version})`);
      const next = structuredClone(r);
      enrol(next, checkPublicIdentity(e.params.identity, 'the enrolled identity'));
      return next;
    }
    case 'roster.seal': {
      if (r.version !== 0) throw new KeyriteError('ROSTER_SEALED', `roster.seal of a roster already at version ${r.version}`);
      const sealed: Roster = { ...r, version: 1 };
      const digest = rosterDigest(sealed);
      if (e.params.roster !== digest) throw new KeyriteError('ROSTER_MISMATCH', `roster.seal names roster ${shown(e.params.roster)}, but the enrolled roster is ${digest}`);
      return sealed;
    }
    case 'roster.change': {
      const next = applyChange(r, e.params.change as RosterChange);
      if (e.params.version !== next.version) throw new KeyriteError('ROSTER_MISMATCH', `roster.change names version ${shown(e.params.version)}, not ${next.version}`);
      return next;
    }
    default:
      return r;
  }
}

/**
 * The roster a workspace starts from, carried whole by the genesis entry: open for enrolment,
 * one generator (the genesis signer) and the signing nodes it created.
 */
export function genesisRoster(params: Record<string, unknown>): Roster {
  const r = params.roster as Roster | undefined;
  if (!r || r.v !== 1 || r.version !== 0 || !Array.isArray(r.members) || !Array.isArray(r.nodes)) {
    throw new KeyriteError('BAD_GENESIS', 'the genesis entry does not carry an open (version 0) roster');
  }
  checkPolicy(r.policy);
  const members: PublicIdentity[] = r.members.map((m, i) => checkPublicIdentity(m, `genesis member ${i + 1}`));
  const nodes: PublicIdentity[] = r.nodes.map((m, i) => checkPublicIdentity(m, `genesis node ${i + 1}`));
  if (members.length !== 1 || members[0]!.role !== 'generator' || nodes.some((n) => n.role !== 'node')) {
    throw new KeyriteError('BAD_GENESIS', 'the genesis roster must hold exactly the generator and nodes; everyone else enrols');
  }
  return structuredClone(r);
}

const KEY_STEPS = ['keygen.result', 'refresh.result', 'reshare.result', 'key.retire', 'recover.result', 'rotate.shard'];

/** The key record an entry creates or changes, if any. */
function nextKey(state: CustodyState, e: FoldEntry): KeyRecord | undefined {
  if (!KEY_STEPS.includes(e.step)) return undefined;
  const what = `the key record in ${e.step} of ${e.ceremony}`;
  switch (e.step) {
    case 'keygen.result': {
      const r = structuredClone(checkKeyRecord(e.result.record, what));
      checkAssignment(state, r, what);
      if (state.keys.has(r.keyId)) throw new KeyriteError('BAD_CHANGE', `${e.step} creates key ${r.keyId}, which exists already`);
      if (r.epoch !== 1 || r.status !== 'active') throw new KeyriteError('BAD_CHANGE', `${e.step} creates key ${r.keyId} at epoch ${r.epoch}, ${r.status}`);
      return r;
    }
    case 'refresh.result':
    case 'reshare.result': {
      const r = structuredClone(checkKeyRecord(e.result.record, what));
      checkAssignment(state, r, what);
      return advanceEpoch(state.key(r.keyId), r);
    }
    case 'key.retire':
      return endKey(state.key(shown(e.params.keyId)), 'retired');
    case 'rotate.shard':
      // rotation.ts checks the entry; the party's pin follows the custodian's new identity.
      return rewrappedKey(state.key(shown(e.params.keyId)), shown(e.params.custodian), state.requireRoster());
    default:
      // recover.result: only an emergency recovery of the private key changes the key.
      return e.params.kind === 'private-key' ? endKey(state.key(shown(e.params.keyId)), 'compromised') : undefined;
  }
}

/**
 * An export is of an active key and names exactly the assignment in force: export.intent every
 * custodian of the key in party order, each export.shard its own node's party, custodian, pinned
 * recipient and epoch, signed by that node.
 * So no entry can move a party's shard to someone else, whoever signs it.
 */
function checkExport(state: CustodyState, e: FoldEntry): void {
  if (e.step !== 'export.intent' && e.step !== 'export.shard') return;
  const r = state.key(shown(e.params.keyId));
  const wrong = (why: string) => new KeyriteError('BAD_CHANGE', `${e.step} in ${e.ceremony} for key ${r.keyId}: ${why}`);
  if (r.status !== 'active') throw wrong(`the key is ${r.status}; a retired or compromised key is never exported again`);
  if (e.params.epoch !== r.epoch) throw wrong(`epoch ${shown(e.params.epoch)}, but the key is at epoch ${r.epoch}`);
  if (e.step === 'export.intent') {
    const named = JSON.stringify(e.params.custodians);
    if (named !== JSON.stringify(r.parties.map((p) => p.custodian))) throw wrong(`custodians ${named} are not the key's, in party order`);
    return;
  }
  const a = r.parties.find((p) => p.node === e.actor);
  if (!a) throw wrong(`${e.actor} runs no party of the key`);
  for (const k of ['party', 'node', 'custodian', 'recipient'] as const) {
    if (e.params[k] !== a[k]) throw wrong(`${k} ${JSON.stringify(e.params[k])}, but ${e.actor}'s party is assigned ${JSON.stringify(a[k])}`);
  }
}

/**
 * Each party runs on the node of its name, and is assigned to a custodian, both in the roster in
 * force; the custodian's recipient and fingerprint it pins are that member's own.
 */
function checkAssignment(state: CustodyState, r: KeyRecord, what: string): void {
  const roster = state.requireRoster();
  const custodians = r.parties.map((p) => p.custodian);
  if (new Set(custodians).size !== custodians.length) throw new KeyriteError('BAD_CHANGE', `${what}: custodians ${custodians.join(', ')} — one custodian holds two parties, which lowers the threshold`);
  for (const p of r.parties) {
    if (p.party !== p.node) throw new KeyriteError('BAD_CHANGE', `${what}: party ${p.party} runs on node ${p.node}; a party runs on the node of its name`);
    member(roster, p.node, 'node');
    const c = member(roster, p.custodian, 'custodian');
    if (p.recipient !== c.recipient || p.fingerprint !== c.fingerprint) {
      throw new KeyriteError('RECIPIENT_MISMATCH', `${what}: party ${p.party} pins custodian ${p.custodian} to recipient ${p.recipient} (fingerprint ${p.fingerprint}), but roster version ${roster.version} holds ${c.recipient} (fingerprint ${c.fingerprint})`);
    }
  }
}

/** What a rotation's rules read of the state, before the entry. */
function rotationContext(state: CustodyState, roster: Roster): RotationContext {
  return { roster, keys: state.keys, artifacts: state.artifacts, setCeremony: (c) => state.guardianSets.get(c) };
}

function guardianSetOf(state: CustodyState, e: FoldEntry): GuardianSetState {
  const p = e.params;
  const ok = typeof p.custodian === 'string' && typeof p.setId === 'string' && Number.isInteger(p.k) && Number.isInteger(p.m) &&
    Array.isArray(p.guardians) && p.guardians.every((g) => typeof g === 'string') && p.guardians.length === p.m;
  if (!ok) throw new KeyriteError('BAD_CHANGE', `custodian.setup in ${e.ceremony} does not describe a guardian set`);
  const roster = state.requireRoster();
  const custodian = findMember(roster, p.custodian as string);
  if (custodian?.role !== 'custodian') throw new KeyriteError('BAD_CHANGE', `custodian.setup in ${e.ceremony} is for ${shown(p.custodian)}, who is not a custodian in roster version ${roster.version}`);
  // Only the custodian splits their own age key: a set recorded by anyone else would replace theirs.
  if (e.actor !== custodian.name) throw new KeyriteError('BAD_CHANGE', `custodian.setup in ${e.ceremony} for ${custodian.name} is signed by ${e.actor}; only ${custodian.name} records their guardian set`);
  return {
    custodian: custodian.name, setId: p.setId as string, k: p.k as number, m: p.m as number, guardians: [...(p.guardians as string[])], ceremony: e.ceremony,
    rosterVersion: roster.version, signingKey: custodian.signingKey,
  };
}

/**
 * What an entry does to the approval ledger (src/state/approvals.ts): an `approval` adds one
 * custodian's signed approval of a request; a sensitive act consumes the quorum of the request
 * it names. Checked against the roster in force now; undefined for any other entry.
 */
function approvalsOf(state: CustodyState, e: FoldEntry): (() => void) | undefined {
  const ctx = () => ({ roster: state.requireRoster(), holdsLine: (d: string) => state.holdsLine(d) });
  if (e.step === 'approval') return state.approvals.admit(ctx(), checkApproval(e.params.approval, `the approval in ${e.ceremony}`), e.time);
  if (!e.consumes) return undefined;
  const roster = state.requireRoster();
  const needed = e.consumes.count === 'policy' ? roster.policy.approvals : e.consumes.count;
  const request = typeof e.params.request === 'string' ? e.params.request : undefined;
  return state.approvals.take(ctx(), { step: e.step, ceremony: e.ceremony, operation: e.consumes.operation, request, params: e.params, time: e.time, needed });
}
