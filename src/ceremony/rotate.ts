import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { faultPoint } from '../base/fault.js';
import { pgpWords } from '../base/pgpwords.js';
import { createFile, finishMove, removeEmptyDir, moveUnrecorded } from '../fs/atomic.js';
import { readBytes, type Workspace } from '../fs/workspace.js';
import { shareRoleName, splitAgeKey } from '../custody/guardian-share.js';
import { newIdentity, publicOf, type Identity } from '../custody/identity.js';
import { openShard, sealShard, shardPath, shardRoleName } from '../custody/shard.js';
import type { Ceremony, Sealed } from '../evidence/writer.js';
import { keyRecordBytes } from '../state/cache.js';
import type { PublicIdentity } from '../state/identity.js';
import type { KeyRecord } from '../state/key-record.js';
import { heldKeys, rewrappedKey, unfinishedRotation, type RotationIntent } from '../state/rotation.js';
import { member } from '../state/roster.js';
import { recordApprovals, takeApprovals, writeRequest, type ActInput, type ApprovalInput, type WrittenRequest } from './approve.js';
import { checkSplit, recordSet, type SetupResult } from './custodian-setup.js';
import { checkGuardians } from './guardians.js';
import type { Operator } from './kernel/operator.js';
import { identityFiles, openIdentity, publishIdentity, writeIdentityFiles } from './kernel/people.js';
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
// custodian.setup (the new set), rotate.result, ceremony.seal (generator and witness).
// Crash safety (CEREMONY.md, "After a crash"; docs/ARCHITECTURE.md §8): the new identity and
// each re-wrapped shard are written durably into a staging directory beside the old ones, the
// identity before the roster change, each shard before its rotate.shard; the old identity and
// shards stay in place until every shard is re-wrapped and recorded, and only then are they moved
// aside into `retired-…` (with the old guardian shares and set, retired when the new set is
// split) and the new ones moved into place, just before rotate.result. A rotation cut short after
// its roster change is finished by running rotate for the same custodian again: its rotate.intent
// names the ceremony it resumes (src/state/rotation.ts), and it records only what is missing.

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
  /** Files no entry records, left by a rotation cut short, moved aside (`.unrecorded`) and never used. */
  setAside: string[];
  /** The approved request; none when this run finished a rotation whose roster change was approved already. */
  request?: string;
  approvers: string[];
  /** The rotation this run finished, cut short after its roster change. */
  resumed?: string;
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

/** The custodian's shard of each of `keys`: the very file on record, not one a rotation replaced. */
function heldShards(s: Session, custodian: string, given: Map<string, string> | undefined, keys: KeyRecord[]): HeldShard[] {
  for (const k of given?.keys() ?? []) {
    if (!keys.some((r) => r.keyId === k)) throw new KeyriteError('NOT_A_HOLDER', `a shard was given for key ${k}, but ${custodian} holds no party of an active key ${k} whose shard is still to be re-wrapped`);
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
/**
 * `rotate`: every check and unlock first; then the ceremony, from the approvals to the retired
 * files. A rotation of this custodian cut short after its roster change is resumed instead; one
 * of another custodian's is finished first.
 */
export function rotateCustodian(i: RotateInput): Promise<RotateResult> {
  return withSession({ ws: i.ws, operator: i.operator, label: `rotate ${i.custodian}` }, async (s) => {
    const from = member(s.roster, i.custodian, 'custodian');
    const cut = unfinishedRotation(s.state);
    if (cut && cut.custodian !== from.name) {
      throw new KeyriteError('ROTATION_REQUIRED', `${cut.custodian}'s rotation ${cut.ceremony} re-keyed them and did not finish: finish it (rotate ${cut.custodian}) before rotating ${from.name}`);
    }
    return cut ? resumeRotation(s, i, cut) : newRotation(s, i, from);
  });
}

async function newRotation(s: Session, i: RotateInput, from: PublicIdentity): Promise<RotateResult> {
  const held = heldShards(s, from.name, i.shards, heldKeys(s.state.keys, from.name));
  const guardians = newSetGuardians(s, from.name, i.guardians);
  const gathered = await takeApprovals(s, SCRIPT, actOf(from), i, `rotating ${from.name}'s identity`);
  const { generator, witness } = await officials(s, i);
  const old = await s.unlock(from.name, 'custodian', i.identities);
  const opened = await openAll(held, old);
  const passphrase = await i.operator.passphrase(from.name, 'new');
  const next = await newIdentity(from.name, 'custodian');
  const pub = publicOf(next);
  const sealed = await sealAll(opened, next);
  const split = await splitAgeKey(next, guardians, s.roster.policy.guardianThreshold);
  const change = `${from.name}: fingerprint ${from.fingerprint} → ${pub.fingerprint} (${pgpWords(pub.fingerprint)})`;
  await s.checklist(SCRIPT, 'ceremony.start');
  await s.checklist(SCRIPT, 'roster.change', change);
  await s.checklist(SCRIPT, 'custodian.setup', `${guardians.map((g) => g.name).join(', ')}`);
  const opening = { script: SCRIPT, actor: generator, params: { custodian: from.name, from: from.fingerprint } };
  const keys = held.map((h) => ({ keyId: h.record.keyId, epoch: h.record.epoch }));
  const staged = stagingDir(i.ws, from.name, pub.fingerprint);
  const out = await s.run(opening, async (c) => {
    await recordApprovals(s, c, gathered.approvals);
    await s.step(c, { step: 'rotate.intent', actor: generator, params: { target: from.name, from: from.fingerprint, to: pub.fingerprint, keys } });
    // The new identity is durable before the roster change makes it the custodian's; the old one stays where it is.
    await i.operator.progress(`Locking ${from.name}'s new identity (scrypt)`, () => writeIdentityFiles(i.ws, next, passphrase, i.logN, staged));
    faultPoint('identity-file');
    const version = c.state.requireRoster().version + 1;
    await c.record({
      step: 'roster.change', actor: old, cosigners: [witness, next],
      params: { change: { op: 'rekey', name: from.name, identity: pub }, version, target: from.name, from: from.fingerprint, request: gathered.digest },
    });
    const shards: RotatedShard[] = [];
    for (const [n, o] of opened.entries()) shards.push(await recordShard(c, next, o, sealed[n]!, staged));
    const moved: Moved = { setAside: [], retired: [] };
    const set = await newSet(c, next, split, guardians, moved);
    const done = await finishRotation(c, { generator, next, from: from.fingerprint, keys, setId: set.setId, staged });
    return { ...done, retired: [...done.retired, ...moved.retired], shards, guardians: set.shares.map((x) => x.guardian), setAside: moved.setAside };
  }, [witness]);
  return { ...out, custodian: from.name, from, pub, request: gathered.digest, approvers: gathered.approvals.map((g) => g.approval.approver) };
}

/**
 * The rotation `cut` finished: its roster change and approvals are on record, so none are taken.
 * The new identity is the one the roster holds (staged beside the old one, or already in place);
 * the shards not yet re-wrapped are still the old identity's, opened with it; a staged shard no
 * entry records is set aside, never used; the guardian set is split if it was not recorded.
 */
async function resumeRotation(s: Session, i: RotateInput, cut: RotationIntent): Promise<RotateResult> {
  const name = cut.custodian;
  const now = member(s.roster, name, 'custodian');
  const former = cut.former!; // recorded with the roster change, which is what leaves a rotation unfinished
  const left = cut.keys.filter((k) => !cut.rewrapped.includes(k.keyId)).map((k) => s.state.key(k.keyId));
  const held = heldShards(s, name, i.shards, left);
  const guardians = cut.setId ? undefined : newSetGuardians(s, name, i.guardians);
  const { generator, witness } = await officials(s, i);
  const staged = stagingDir(i.ws, name, now.fingerprint);
  const stagedId = identityFiles(i.ws, name, staged).file;
  const next = await openIdentity(i.ws, now, await i.operator.passphrase(name, 'new'), existsSync(stagedId) ? stagedId : undefined);
  const old = held.length ? await openIdentity(i.ws, former, await i.operator.passphrase(name, 'unlock'), i.identities.get(name)) : undefined;
  const opened = old ? await openAll(held, old) : [];
  const sealed = await sealAll(opened, next);
  const split = guardians && (await splitAgeKey(next, guardians, s.roster.policy.guardianThreshold));
  await s.checklist(SCRIPT, 'ceremony.start');
  await s.confirm(`Finish ${name}'s rotation ${cut.ceremony}, cut short after its roster change: fingerprint ${former.fingerprint} → ${now.fingerprint} (${pgpWords(now.fingerprint)}); ${held.length} shard(s) still to re-wrap${split ? ', and the new guardian set to split' : ''}`);
  if (guardians) await s.checklist(SCRIPT, 'custodian.setup', `${guardians.map((g) => g.name).join(', ')}`);
  const opening = { script: SCRIPT, actor: generator, params: { custodian: name, from: cut.from, resumes: cut.ceremony } };
  const out = await s.run(opening, async (c) => {
    await s.step(c, { step: 'rotate.intent', actor: generator, params: { target: name, from: cut.from, to: now.fingerprint, keys: cut.keys, resumes: cut.ceremony } });
    const moved: Moved = { setAside: [], retired: [] };
    for (const o of opened) {
      const f = stagedShard(c.ws, staged, o.shard.keyId, o.shard.epoch, name);
      if (existsSync(f)) moved.setAside.push(c.ws.relative(moveUnrecorded(f)));
    }
    const shards: RotatedShard[] = [];
    for (const [n, o] of opened.entries()) shards.push(await recordShard(c, next, o, sealed[n]!, staged));
    const set = split ? await newSet(c, next, split, guardians!, moved) : undefined;
    const done = await finishRotation(c, { generator, next, from: cut.from, keys: cut.keys, setId: set?.setId ?? cut.setId!, staged });
    const kept = set ? set.shares.map((x) => x.guardian) : c.state.guardianSets.get(name)!.guardians;
    return { ...done, retired: [...done.retired, ...moved.retired], shards, guardians: kept, setAside: moved.setAside };
  }, [witness]);
  return { ...out, custodian: name, from: former, pub: now, approvers: [], resumed: cut.ceremony };
}

/** The generator who runs the ceremony and the witness who seals it. */
async function officials(s: Session, i: RotateInput): Promise<{ generator: Identity; witness: Identity }> {
  const generator = await s.unlockSole('generator', { identities: i.identities });
  const witness = await s.unlockSole('witness', { name: i.witness, identities: i.identities });
  return { generator, witness };
}

async function openAll(held: HeldShard[], old: Identity): Promise<OpenedShard[]> {
  const opened: OpenedShard[] = [];
  for (const h of held) opened.push(await openShardAs(h.record, old, h.path, h.bytes));
  return opened;
}

async function sealAll(opened: OpenedShard[], next: Identity): Promise<Uint8Array[]> {
  const sealed: Uint8Array[] = [];
  for (const o of opened) sealed.push(await sealShard(o.shard, next.recipient));
  return sealed;
}

/**
 * Where the new identity and the re-wrapped shards wait, beside the old ones, until every shard
 * is re-wrapped and recorded: `holdings/<name>/rotating-<new fingerprint>/` (CEREMONY.md, "After
 * a crash"). Named by the fingerprint the roster change records, so a resumed rotation finds it.
 */
function stagingDir(ws: Workspace, name: string, fingerprint: string): string {
  return join(ws.holdingsDir(name), `rotating-${fingerprint.slice(0, 16)}`);
}

function stagedShard(ws: Workspace, staged: string, keyId: string, epoch: number, name: string): string {
  return join(staged, basename(shardPath(ws, name, keyId, epoch)));
}

/** Where the files a rotation moved out of the way went: retired ones (by directory), unrecorded ones (by file). */
interface Moved {
  setAside: string[];
  retired: string[];
}

/** The new set: the old set's files (and any a cut-short split left) moved out of the way, then split and recorded. */
async function newSet(c: Ceremony, next: Identity, split: Awaited<ReturnType<typeof splitAgeKey>>, guardians: PublicIdentity[], moved: Moved): Promise<SetupResult> {
  const ws = c.ws;
  const oldSet = c.state.guardianSets.get(next.name);
  const retiredDir = (dir: string) => join(dir, `retired-set-${(oldSet?.setId ?? 'none').slice(0, 16)}`);
  const holders = new Set([...(oldSet?.guardians ?? []), ...guardians.map((g) => g.name)]);
  for (const g of holders) clearForNew(c, ws.guardianShareFile(g, next.name), oldSet && shareRoleName(g, oldSet.setId), retiredDir(ws.holdingsDir(g)), moved);
  const setFile = ws.guardianSetFile(next.name);
  clearForNew(c, setFile, ws.relative(setFile), retiredDir(dirname(setFile)), moved);
  return recordSet(c, next, split.set, split.envelopes);
}

/** A file where a new one goes: the one on record (as `role`) retired into `dir`; any other set aside as unrecorded. */
function clearForNew(c: Ceremony, path: string, role: string | undefined, dir: string, moved: Moved): void {
  if (!existsSync(path)) return;
  const recorded = role !== undefined && c.state.artifacts.get(role)?.sha256 === sha256Hex(readBytes(path));
  if (!recorded) return void moved.setAside.push(c.ws.relative(moveUnrecorded(path)));
  finishMove(path, join(dir, basename(path)));
  moved.retired.push(c.ws.relative(dir));
}

interface Finish {
  generator: Identity;
  next: Identity;
  from: string;
  keys: { keyId: string; epoch: number }[];
  setId: string;
  staged: string;
}

/**
 * Every shard re-wrapped and recorded: only now are the old identity and old shards moved into
 * `retired-<old fingerprint>/`, the new ones from the staging directory into their standard
 * paths, the public record written, and rotate.result recorded. Each move can be run again after
 * a crash (finishMove), and a staged shard moves in only as the file on record.
 */
async function finishRotation(c: Ceremony, f: Finish): Promise<{ file: string; setId: string; retired: string[] }> {
  const ws = c.ws;
  const name = f.next.name;
  const home = ws.holdingsDir(name);
  const mine = join(home, `retired-${f.from.slice(0, 16)}`);
  const [inPlace, waiting] = [identityFiles(ws, name, home), identityFiles(ws, name, f.staged)];
  const pairs: [string, string][] = [[inPlace.file, waiting.file], [inPlace.pubFile, waiting.pubFile]];
  for (const k of f.keys) {
    const from = stagedShard(ws, f.staged, k.keyId, k.epoch, name);
    const role = shardRoleName(name, k.keyId, k.epoch);
    if (existsSync(from) && sha256Hex(readBytes(from)) !== c.state.artifacts.get(role)?.sha256) throw new KeyriteError('DAMAGED_FILE', `${from} is not ${name}'s re-wrapped shard of key ${k.keyId} on record (${role})`);
    pairs.push([shardPath(ws, name, k.keyId, k.epoch), from]);
  }
  const retired = new Set<string>();
  for (const [to, from] of pairs) {
    // The file in place is the old one unless the new one already moved in (a crash between link and unlink).
    if (!existsSync(from) || !existsSync(to) || readBytes(to).equals(readBytes(from))) continue;
    finishMove(to, join(mine, basename(to)));
    retired.add(ws.relative(mine));
  }
  faultPoint('retired-files');
  for (const [to, from] of pairs) finishMove(from, to);
  removeEmptyDir(f.staged);
  publishIdentity(ws, publicOf(f.next));
  const pubFile = ws.publicIdentityFile(name);
  await c.record({
    step: 'rotate.result', actor: f.generator,
    params: { target: name, from: f.from, to: publicOf(f.next).fingerprint, setId: f.setId, keys: f.keys },
    subjects: [{ name: ws.relative(pubFile), sha256: sha256Hex(readBytes(pubFile)) }],
  });
  return { file: inPlace.file, setId: f.setId, retired: [...retired] };
}

/**
 * One shard re-wrapped: written exclusively into the staging directory, read back and opened by
 * the new identity, then recorded with the key's moved pin (the file first, then its entry).
 */
async function recordShard(c: Ceremony, next: Identity, o: OpenedShard, bytes: Uint8Array, staged: string): Promise<RotatedShard> {
  const ws = c.ws;
  const r = c.state.key(o.shard.keyId);
  const path = stagedShard(ws, staged, r.keyId, r.epoch, next.name);
  ws.mkdirs(staged);
  createFile(path, bytes);
  faultPoint('shard-file');
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
  return { keyId: r.keyId, epoch: r.epoch, party: o.shard.party, path: ws.relative(shardPath(ws, next.name, r.keyId, r.epoch)), sha256 };
}
