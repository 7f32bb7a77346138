import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { pgpWords } from '../base/pgpwords.js';
import { createFile, moveAside } from '../fs/atomic.js';
import { readBytes, type Workspace } from '../fs/workspace.js';
import { splitAgeKey } from '../custody/guardian-share.js';
import { newIdentity, publicOf, type Identity } from '../custody/identity.js';
import { openShard, sealShard, shardPath, shardRoleName } from '../custody/shard.js';
import type { Ceremony, Sealed } from '../evidence/writer.js';
import { keyRecordBytes } from '../state/cache.js';
import type { PublicIdentity } from '../state/identity.js';
import type { KeyRecord } from '../state/key-record.js';
import { heldKeys, rewrappedKey } from '../state/rotation.js';
import { member } from '../state/roster.js';
import { recordApprovals, takeApprovals, writeRequest, type ActInput, type ApprovalInput, type WrittenRequest } from './approve.js';
import { checkSplit, recordSet } from './custodian-setup.js';
import { checkGuardians } from './guardians.js';
import type { Operator } from './kernel/operator.js';
import { identityFiles, writePersonIdentity } from './kernel/people.js';
import { withSession, type IdentityPaths, type Session } from './kernel/session.js';
import { openShardAs, refuseRetiredShard, type OpenedShard } from './kernel/shards.js';

// Rotating a custodian's identity (CEREMONY.md, "Rotating a custodian's identity";
// docs/ARCHITECTURE.md §1 step 5): a new age key and a new Ed25519 key, locked under a new
// passphrase; every shard the custodian holds re-wrapped on this machine — the old identity
// opens it (checked as their party), the new recipient seals it, no node takes part; the new
// age key split among guardians as a new set. Approved by the policy's quorum of the other
// custodians (files made on their own devices, or in the room), witnessed. Everything is read,
// checked and unlocked before the ceremony opens. Records, in order: ceremony.start, the
// confirmations, one approval per approver, rotate.intent (the custodian, the fingerprint they
// leave, every key they hold), roster.change (the rekey, consuming the approvals; signed by the
// old identity, co-signed by the witness and the new one), one rotate.shard per key (signed by
// the new identity: the new shard's digest and the key record with the party's pin moved),
// custodian.setup (the new set), rotate.result, ceremony.seal (generator and witness). The
// files rotated away from — identity, shards, guardian shares, set — are moved aside into
// `retired-…` directories beside them, for their holders to destroy.

const SCRIPT = 'rotate';

interface Common {
  ws: Workspace;
  custodian: string;
  operator: Operator;
}

export interface RotateInput extends Common, ApprovalInput {
  logN: number;
  witness?: string;
  identities: IdentityPaths;
  /** keyId → the custodian's shard of it, when not at its standard path. */
  shards?: Map<string, string>;
  /** The new set's guardians; default: those of the custodian's set on record. */
  guardians?: string[];
}

export interface RotatedShard {
  keyId: string;
  epoch: number;
  party: string;
  path: string;
  sha256: string;
}

export interface RotateResult {
  custodian: string;
  from: PublicIdentity;
  pub: PublicIdentity;
  file: string;
  shards: RotatedShard[];
  setId: string;
  guardians: string[];
  /** Where the files rotated away from were moved, for their holders to destroy. */
  retired: string[];
  request: string;
  approvers: string[];
  ceremony: string;
  sealed: Sealed;
}

/** What the approvers approve: this custodian leaving the identity the roster holds now. */
const actOf = (pub: PublicIdentity): ActInput => ({ target: pub.name, parameters: { from: pub.fingerprint } });

/** `rotate --request-out`: the request written for the approvers' own devices; nothing recorded. */
export function requestRotate(i: Common & { out: string; ttlMs: number }): Promise<WrittenRequest & { custodian: string }> {
  return withSession({ ws: i.ws, operator: i.operator, label: `request rotating ${i.custodian}` }, async (s) => {
    const pub = member(s.roster, i.custodian, 'custodian');
    return { ...writeRequest(s, SCRIPT, actOf(pub), { out: i.out, ttlMs: i.ttlMs }), custodian: pub.name };
  });
}

/** One shard to re-wrap: its file, read and checked against the record before anyone unlocks. */
interface HeldShard {
  record: KeyRecord;
  path: string;
  bytes: Buffer;
}

/** The custodian's shard of each key they hold: the very file on record, not one a rotation replaced. */
function heldShards(s: Session, custodian: string, given: Map<string, string> | undefined): HeldShard[] {
  const keys = heldKeys(s.state.keys, custodian);
  for (const k of given?.keys() ?? []) {
    if (!keys.some((r) => r.keyId === k)) throw new KeyriteError('NOT_A_HOLDER', `a shard was given for key ${k}, but ${custodian} holds no party of an active key ${k}`);
  }
  return keys.map((record) => {
    const path = given?.get(record.keyId) ?? shardPath(s.ws, custodian, record.keyId, record.epoch);
    const role = shardRoleName(custodian, record.keyId, record.epoch);
    const onRecord = s.state.artifacts.get(role);
    if (!onRecord) throw new KeyriteError('NOT_FOUND', `no shard of ${custodian} for key ${record.keyId} is on record: its node still holds the share; export it before rotating`);
    const bytes = readBytes(path, `the shard of ${custodian} for key ${record.keyId}`);
    const sha256 = sha256Hex(bytes);
    refuseRetiredShard(s.state, sha256, path);
    if (sha256 !== onRecord.sha256) throw new KeyriteError('DAMAGED_FILE', `${path} is not ${custodian}'s shard of key ${record.keyId} on record (${role}, sha256 ${onRecord.sha256.slice(0, 16)}…)`);
    return { record, path, bytes };
  });
}

/** The new set's guardians: those named, else the custodian's on record; checked as custodian setup checks them. */
function newSetGuardians(s: Session, custodian: string, named: string[] | undefined): PublicIdentity[] {
  const guardians = named ?? s.state.guardianSets.get(custodian)?.guardians;
  if (!guardians) throw new KeyriteError('MISSING_INPUT', `${custodian} has no guardian set on record, so the guardians of the new set must be named`);
  checkSplit(s.roster.policy, undefined, guardians.length);
  return checkGuardians(s.state, custodian, guardians);
}

/** `rotate`: every check and unlock first; then the ceremony, from the approvals to the retired files. */
export function rotateCustodian(i: RotateInput): Promise<RotateResult> {
  return withSession({ ws: i.ws, operator: i.operator, label: `rotate ${i.custodian}` }, async (s) => {
    const from = member(s.roster, i.custodian, 'custodian');
    const held = heldShards(s, from.name, i.shards);
    const guardians = newSetGuardians(s, from.name, i.guardians);
    const gathered = await takeApprovals(s, SCRIPT, actOf(from), i, `rotating ${from.name}'s identity`);
    const generator = await s.unlockSole('generator', { identities: i.identities });
    const witness = await s.unlockSole('witness', { name: i.witness, identities: i.identities });
    const old = await s.unlock(from.name, 'custodian', i.identities);
    const opened: OpenedShard[] = [];
    for (const h of held) opened.push(await openShardAs(h.record, old, h.path, h.bytes));
    const passphrase = await i.operator.passphrase(from.name, 'new');
    const next = await newIdentity(from.name, 'custodian');
    const pub = publicOf(next);
    const sealed: Uint8Array[] = [];
    for (const o of opened) sealed.push(await sealShard(o.shard, next.recipient));
    const split = await splitAgeKey(next, guardians, s.roster.policy.guardianThreshold);
    const change = `${from.name}: fingerprint ${from.fingerprint} → ${pub.fingerprint} (${pgpWords(pub.fingerprint)})`;
    await s.checklist(SCRIPT, 'ceremony.start');
    await s.checklist(SCRIPT, 'roster.change', change);
    await s.checklist(SCRIPT, 'custodian.setup', `${guardians.map((g) => g.name).join(', ')}`);
    const opening = { script: SCRIPT, actor: generator, params: { custodian: from.name, from: from.fingerprint } };
    const out = await s.run(opening, async (c) => {
      await recordApprovals(s, c, gathered.approvals);
      const keys = held.map((h) => ({ keyId: h.record.keyId, epoch: h.record.epoch }));
      await s.step(c, { step: 'rotate.intent', actor: generator, params: { target: from.name, from: from.fingerprint, to: pub.fingerprint, keys } });
      const retired = setAside(c, from, held, guardians.map((g) => g.name));
      const written = await i.operator.progress(`Locking ${from.name}'s new identity (scrypt)`, () => writePersonIdentity(i.ws, next, passphrase, i.logN, i.ws.holdingsDir(from.name)));
      const version = c.state.requireRoster().version + 1;
      await c.record({
        step: 'roster.change', actor: old, cosigners: [witness, next],
        params: { change: { op: 'rekey', name: from.name, identity: pub }, version, target: from.name, from: from.fingerprint, request: gathered.digest },
      });
      const shards: RotatedShard[] = [];
      for (const [n, o] of opened.entries()) shards.push(await recordShard(c, next, o, sealed[n]!));
      const set = await recordSet(c, next, split.set, split.envelopes);
      const pubFile = i.ws.publicIdentityFile(from.name);
      await c.record({
        step: 'rotate.result', actor: generator,
        params: { target: from.name, from: from.fingerprint, to: pub.fingerprint, setId: set.setId, keys },
        subjects: [{ name: i.ws.relative(pubFile), sha256: sha256Hex(readBytes(pubFile)) }],
      });
      return { custodian: from.name, from, pub, file: written.file, shards, setId: set.setId, guardians: set.shares.map((x) => x.guardian), retired };
    }, [witness]);
    const approvers = gathered.approvals.map((g) => g.approval.approver);
    return { ...out, request: gathered.digest, approvers };
  });
}

/**
 * Moves aside every file the rotation is about to write in its place: the custodian's identity
 * and shards at their standard paths, each guardian's share of the old set, the old set file.
 * Returns the directories they went to.
 */
function setAside(c: Ceremony, from: PublicIdentity, held: HeldShard[], guardians: string[]): string[] {
  const ws = c.ws;
  const mine = join(ws.holdingsDir(from.name), `retired-${from.fingerprint.slice(0, 16)}`);
  const oldSet = c.state.guardianSets.get(from.name);
  const holders = new Set([...(oldSet?.guardians ?? []), ...guardians]);
  const setDir = (dir: string) => join(dir, `retired-set-${(oldSet?.setId ?? 'none').slice(0, 16)}`);
  const moves: [string, string][] = [
    ...Object.values(identityFiles(ws, from.name, ws.holdingsDir(from.name))).map((f): [string, string] => [f, mine]),
    ...held.map((h): [string, string] => [shardPath(ws, from.name, h.record.keyId, h.record.epoch), mine]),
    ...[...holders].map((g): [string, string] => [ws.guardianShareFile(g, from.name), setDir(ws.holdingsDir(g))]),
    [ws.guardianSetFile(from.name), setDir(dirname(ws.guardianSetFile(from.name)))],
  ];
  const dirs = new Set<string>();
  for (const [f, dir] of moves) {
    if (!existsSync(f)) continue;
    moveAside(f, dir);
    dirs.add(ws.relative(dir));
  }
  return [...dirs];
}

/** One shard re-wrapped: written exclusively, read back and opened by the new identity, then recorded with the key's moved pin. */
async function recordShard(c: Ceremony, next: Identity, o: OpenedShard, bytes: Uint8Array): Promise<RotatedShard> {
  const ws = c.ws;
  const r = c.state.key(o.shard.keyId);
  const path = shardPath(ws, next.name, r.keyId, r.epoch);
  ws.mkdirs(ws.holdingsDir(next.name));
  createFile(path, bytes);
  const back = readBytes(path, `the new shard of ${next.name}`);
  const sha256 = sha256Hex(bytes);
  if (sha256Hex(back) !== sha256) throw new KeyriteError('SHARD_WRITE_FAILED', `the shard written to ${path} does not read back as written`);
  await openShard(back, next.ageIdentity, `the new shard of ${next.name} (${path})`);
  const moved = rewrappedKey(r, next.name, c.state.requireRoster());
  const at = member(c.state.requireRoster(), next.name, 'custodian');
  await c.record({
    step: 'rotate.shard', actor: next,
    params: { keyId: r.keyId, epoch: r.epoch, party: o.shard.party, custodian: next.name, recipient: at.recipient, fingerprint: at.fingerprint },
    subjects: [{ name: shardRoleName(next.name, r.keyId, r.epoch), sha256 }, { name: ws.relative(ws.keyFile(r.keyId)), sha256: sha256Hex(keyRecordBytes(moved)) }],
  });
  return { keyId: r.keyId, epoch: r.epoch, party: o.shard.party, path: ws.relative(path), sha256 };
}
