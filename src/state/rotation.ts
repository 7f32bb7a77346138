import { canonical } from '../base/canonical.js';
import { KeyriteError, shown } from '../base/errors.js';
import { shardRoleName } from './artifacts.js';
import type { RecordedArtifact } from './artifacts.js';
import { assignmentOf, type KeyRecord } from './key-record.js';
import type { PublicIdentity } from './identity.js';
import { member, type Roster, type RosterChange } from './roster.js';

// A custodian's identity rotation as the fold keeps it (CEREMONY.md, "Rotating a custodian's
// identity"). In one rotate ceremony, in order:
//  - rotate.intent names the custodian, the fingerprint they rotate away from (the roster's),
//    and every active key they hold a party of, at its epoch: none may be left behind;
//  - roster.change re-keys exactly that custodian, consuming the approvals of a `rotate` request
//    for them (the fold's ledger counts the quorum: never the custodian themself);
//  - one rotate.shard per key, signed by the new identity: the shard on record is replaced by
//    one sealed to the new recipient, and the key record's pin for the party moves to it;
//  - custodian.setup: the new age key split among guardians, a new set;
//  - rotate.result: everything above done; the old identity, its shards and its set are retired.
// A rotation cut short (a crash, an abort) after its roster.change stays the one in progress:
// the custodian is re-keyed and rotation due, and their shards not yet re-wrapped are still
// sealed to the old identity. It is finished, not started anew: a later rotate ceremony's
// rotate.intent names it (`resumes`), with the same custodian, fingerprints and keys, and goes on
// with the rotate.shard entries still missing, custodian.setup if it is, and rotate.result; the
// roster change and its approvals are on record already. Until then no other rotation starts.
// A rotation cut short before its roster.change changed nothing and is simply started again.
// A custodian whose age key was rebuilt by a recovery of a recorded session (recover.result) is
// "rotation due" until such a rotate.result: their shards are not used, by ceremonies or nodes
// (`requireRotated`), since the rebuilt key was in the recovery's hands. The fold records it and
// does not refuse, for the verifier, a signature made before this rule existed: histories
// already written keep verifying (docs/ARCHITECTURE.md, "Ceremony scripts"); the deciding
// layers refuse.

/** The approvals a rotation consumes (ceremonies/rotate.json `approvals.operation`). */
export const ROTATE_OPERATION = 'rotate';

export interface RotationIntent {
  ceremony: string;
  custodian: string;
  /** The fingerprint rotated away from. */
  from: string;
  keys: { keyId: string; epoch: number }[];
  rekeyed: boolean;
  /** The identity rotated away from, once the roster change is recorded: what still opens the shards not re-wrapped. */
  former?: PublicIdentity;
  rewrapped: string[];
  /** The guardian set split from the old age key, if any. */
  fromSet?: string;
  setId?: string;
}

/** An identity a rotation retired, with the guardian set of its age key. */
export interface RetiredIdentity {
  fingerprint: string;
  setId?: string;
  ceremony: string;
}

/** A shard digest a rotation replaced: never used again. */
export interface RetiredShard {
  custodian: string;
  keyId: string;
  epoch: number;
  ceremony: string;
}

/** What the fold holds of rotations; plain data, so the state snapshots as it is (snapshot.ts). */
export interface RotationState {
  /** custodian → why their shards wait for a rotation (the ceremony that made it due). */
  rotationDue: Map<string, string>;
  /** sha256 of each shard a rotation replaced → whose it was. */
  retiredShards: Map<string, RetiredShard>;
  /** Identities rotated away from, and their guardian sets: custodian → oldest first. */
  retiredIdentities: Map<string, RetiredIdentity[]>;
  /** The rotation its ceremony has begun; undefined outside one. */
  rotating: RotationIntent | undefined;
}

/** What the rotation rules see of the rest of the state. */
export interface RotationContext {
  roster: Roster;
  keys: Map<string, KeyRecord>;
  artifacts: Map<string, RecordedArtifact>;
  /** The ceremony that recorded each custodian's current guardian set. */
  setCeremony: (custodian: string) => { setId: string; ceremony: string } | undefined;
}

interface Entry {
  ceremony: string;
  step: string;
  actor: string;
  params: Record<string, unknown>;
  subjects: { name: string; sha256: string }[];
  consumes?: { operation: string };
}

/** Refuses `custodian`'s shards while a rotation is due for them; `node` names the node refusing, if one is. */
export function requireRotated(state: Pick<RotationState, 'rotationDue'>, custodian: string, o: { node?: string } = {}): void {
  const why = state.rotationDue.get(custodian);
  if (why === undefined) return;
  const by = o.node ? `node ${o.node} refuses: ` : '';
  throw new KeyriteError('ROTATION_REQUIRED', `${by}${custodian}'s shards are not used until ${custodian} rotates to a new identity (rotate): ${why}`, { node: o.node });
}

/** The rotation cut short after its roster change, to be finished before any other starts; undefined if none. */
export function unfinishedRotation(state: Pick<RotationState, 'rotating'>): RotationIntent | undefined {
  return state.rotating?.rekeyed ? state.rotating : undefined;
}

/** The active keys `custodian` holds a party of: what a rotation must re-wrap, each at its epoch. */
export function heldKeys(keys: Map<string, KeyRecord>, custodian: string): KeyRecord[] {
  return [...keys.values()].filter((r) => r.status === 'active' && r.parties.some((p) => p.custodian === custodian));
}

/** The key record after rotate.shard: the party's pin moved to the custodian's identity in the roster in force. */
export function rewrappedKey(r: KeyRecord, custodian: string, roster: Roster): KeyRecord {
  const now = member(roster, custodian, 'custodian');
  return { ...r, parties: r.parties.map((p) => (p.custodian === custodian ? { ...p, recipient: now.recipient, fingerprint: now.fingerprint } : p)) };
}

const STEPS = ['recover.result', 'rotate.intent', 'roster.change', 'rotate.shard', 'custodian.setup', 'rotate.result'];

/**
 * The change an entry makes to the rotation state, to be committed with the rest of the entry;
 * undefined when it makes none. Throws a KeyriteError for an entry the fold refuses.
 */
export function prepareRotation(st: RotationState, x: RotationContext, e: Entry): (() => void) | undefined {
  if (!STEPS.includes(e.step)) return undefined;
  const bad = (why: string) => new KeyriteError('BAD_CHANGE', `${e.step} in ${e.ceremony}: ${why}`);
  const p = e.params;
  const here = st.rotating?.ceremony === e.ceremony ? st.rotating : undefined;
  switch (e.step) {
    case 'recover.result': {
      // Only a recovery of a recorded session (the guardians released to it) makes one due.
      if (p.kind === 'private-key' || p.session === undefined) return undefined;
      const custodian = shown(p.target);
      return () => st.rotationDue.set(custodian, `${custodian}'s age key was rebuilt from guardians' releases by custodian recovery ${e.ceremony}`);
    }
    case 'rotate.intent': {
      const next = p.resumes === undefined ? intentOf(st, x, e, bad) : resumeOf(st, x, e, bad);
      return () => void (st.rotating = next);
    }
    case 'roster.change': {
      if (e.consumes?.operation !== ROTATE_OPERATION) return undefined;
      const r = requireHere(here, bad);
      const change = p.change as RosterChange;
      if (change?.op !== 'rekey' || change.name !== r.custodian || p.target !== r.custodian) throw bad(`a rotation of ${r.custodian} re-keys ${r.custodian} alone`);
      if (p.from !== r.from) throw bad(`it rotates from ${shown(p.from)}, but the intent names ${r.from}`);
      const old = member(x.roster, r.custodian, 'custodian');
      if (change.identity?.recipient === old.recipient || change.identity?.signingKey === old.signingKey) throw bad(`${r.custodian}'s new identity must have a new age key and a new signing key`);
      return () => {
        st.rotating = { ...r, rekeyed: true, former: old };
        // Until every shard is re-wrapped (rotate.result), the old ones stay unusable.
        st.rotationDue.set(r.custodian, `${r.custodian}'s rotation ${e.ceremony} re-keyed them and has not finished: rotating ${r.custodian} again finishes it`);
      };
    }
    case 'rotate.shard':
      return shardOf(st, x, e, requireRekeyed(here, bad), bad);
    case 'custodian.setup': {
      if (!here || p.custodian !== here.custodian) return undefined;
      if (!here.rekeyed) throw bad(`${here.custodian}'s new guardian set comes after the roster change, split from the new age key`);
      return () => void (st.rotating = { ...here, setId: shown(p.setId) });
    }
    default:
      return resultOf(st, x, e, requireRekeyed(here, bad), bad);
  }
}

function requireHere(here: RotationIntent | undefined, bad: (why: string) => KeyriteError): RotationIntent {
  if (!here) throw bad('no rotate.intent precedes it in its ceremony');
  return here;
}

function requireRekeyed(here: RotationIntent | undefined, bad: (why: string) => KeyriteError): RotationIntent {
  const r = requireHere(here, bad);
  if (!r.rekeyed) throw bad(`${r.custodian} is not re-keyed yet in this ceremony (its approved roster.change comes first)`);
  return r;
}

/** The intent: the custodian as the roster holds them, and exactly the keys they hold, each with a shard on record. */
function intentOf(st: RotationState, x: RotationContext, e: Entry, bad: (why: string) => KeyriteError): RotationIntent {
  const p = e.params;
  const custodian = shown(p.target);
  const cut = unfinishedRotation(st);
  if (cut) throw bad(`${cut.custodian}'s rotation ${cut.ceremony} re-keyed them and did not finish: it is resumed (a rotate.intent naming it), before any rotation starts`);
  if (x.roster.members.find((m) => m.name === custodian)?.role !== 'custodian') throw bad(`${custodian} is not a custodian in roster version ${x.roster.version}`);
  const now = member(x.roster, custodian, 'custodian');
  if (p.from !== now.fingerprint) throw bad(`it rotates ${custodian} from ${shown(p.from)}, but roster version ${x.roster.version} holds ${now.fingerprint}`);
  const held = requireHeld(x, custodian, p.keys, bad);
  for (const k of held) if (!x.artifacts.has(shardRoleName(custodian, k.keyId, k.epoch))) throw bad(`no shard of ${custodian} for key ${k.keyId} is on record`);
  const fromSet = x.setCeremony(custodian)?.setId;
  return { ceremony: e.ceremony, custodian, from: now.fingerprint, keys: held, rekeyed: false, rewrapped: [], ...(fromSet ? { fromSet } : {}) };
}

/** Every active key `custodian` holds, each at its epoch: exactly `keys`, as an intent names them. */
function requireHeld(x: RotationContext, custodian: string, keys: unknown, bad: (why: string) => KeyriteError): { keyId: string; epoch: number }[] {
  const held = heldKeys(x.keys, custodian).map((r) => ({ keyId: r.keyId, epoch: r.epoch }));
  if (canonical(keys ?? null) !== canonical(held)) throw bad(`it names keys ${shown(keys)}, but ${custodian} holds ${JSON.stringify(held)}: every active key, each at its epoch`);
  return held;
}

/**
 * A rotation resumed: the one cut short after its roster change, in an earlier ceremony, for the
 * same custodian, from the same fingerprint to the one the roster now holds, with the same keys
 * (still held, each at its epoch). It goes on in this ceremony with what it has done so far.
 */
function resumeOf(st: RotationState, x: RotationContext, e: Entry, bad: (why: string) => KeyriteError): RotationIntent {
  const p = e.params;
  const r = unfinishedRotation(st);
  if (!r || r.ceremony !== p.resumes || r.ceremony === e.ceremony) throw bad(`it resumes ${shown(p.resumes)}, but no rotation cut short after its roster change is on record there`);
  const now = member(x.roster, r.custodian, 'custodian');
  if (p.target !== r.custodian || p.from !== r.from || p.to !== now.fingerprint) throw bad(`it names ${shown(p.target)} from ${shown(p.from)} to ${shown(p.to)}, not ${r.custodian} from ${r.from} to ${now.fingerprint}`);
  if (canonical(p.keys ?? null) !== canonical(r.keys)) throw bad(`it names keys ${shown(p.keys)}, not ${JSON.stringify(r.keys)} as ${r.ceremony} did`);
  requireHeld(x, r.custodian, p.keys, bad);
  return { ...r, ceremony: e.ceremony };
}

/** One shard re-wrapped: a key of the intent, once, signed by the new identity, pinned to it, with a new digest. */
function shardOf(st: RotationState, x: RotationContext, e: Entry, r: RotationIntent, bad: (why: string) => KeyriteError): () => void {
  const p = e.params;
  const keyId = shown(p.keyId);
  const k = r.keys.find((y) => y.keyId === keyId);
  if (!k || r.rewrapped.includes(keyId)) throw bad(`key ${keyId} is not one the intent names, or its shard was re-wrapped already`);
  const record = x.keys.get(keyId)!;
  const a = assignmentOf(record, { custodian: r.custodian });
  const now = member(x.roster, r.custodian, 'custodian');
  if (e.actor !== r.custodian || p.custodian !== r.custodian || p.party !== a.party || p.epoch !== k.epoch) throw bad(`it must be ${r.custodian}'s own, for party ${a.party} at epoch ${k.epoch}`);
  if (p.recipient !== now.recipient || p.fingerprint !== now.fingerprint) throw bad(`it pins ${shown(p.recipient)}, not ${r.custodian}'s recipient in roster version ${x.roster.version}`);
  const role = shardRoleName(r.custodian, keyId, k.epoch);
  const old = x.artifacts.get(role)!;
  const next = e.subjects.find((s) => s.name === role);
  if (!next || next.sha256 === old.sha256) throw bad(`it names no new digest for ${role}`);
  return () => {
    st.rotating = { ...r, rewrapped: [...r.rewrapped, keyId] };
    st.retiredShards.set(old.sha256, { custodian: r.custodian, keyId, epoch: k.epoch, ceremony: e.ceremony });
  };
}

/** The result: every key re-wrapped and the new set recorded, in this rotation; the old identity retired. */
function resultOf(st: RotationState, x: RotationContext, e: Entry, r: RotationIntent, bad: (why: string) => KeyriteError): () => void {
  const p = e.params;
  const missing = r.keys.filter((k) => !r.rewrapped.includes(k.keyId)).map((k) => k.keyId);
  if (missing.length) throw bad(`the shards of ${missing.join(', ')} are not re-wrapped`);
  const set = x.setCeremony(r.custodian);
  // r.setId is set only by a custodian.setup of this rotation (in this ceremony or the one it resumes).
  if (!r.setId || set?.setId !== r.setId || p.setId !== r.setId) throw bad(`${r.custodian}'s new guardian set is not recorded in this rotation`);
  const now = member(x.roster, r.custodian, 'custodian');
  if (p.target !== r.custodian || p.from !== r.from || p.to !== now.fingerprint) throw bad(`it names ${shown(p.target)} from ${shown(p.from)} to ${shown(p.to)}, not ${r.custodian} from ${r.from} to ${now.fingerprint}`);
  return () => {
    st.rotationDue.delete(r.custodian);
    const retired: RetiredIdentity = { fingerprint: r.from, ...(r.fromSet ? { setId: r.fromSet } : {}), ceremony: e.ceremony };
    st.retiredIdentities.set(r.custodian, [...(st.retiredIdentities.get(r.custodian) ?? []), retired]);
    st.rotating = undefined;
  };
}
