import { existsSync } from 'node:fs';
import { sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { createFile, FileExistsError } from '../fs/atomic.js';
import type { Workspace } from '../fs/workspace.js';
import { getEngine } from '../engine/index.js';
import { checkRecoveryRecipient, sealRecoveredKey } from '../custody/recovered-key.js';
import type { Sealed } from '../evidence/writer.js';
import { keyRecordBytes } from '../state/cache.js';
import type { KeyRecord } from '../state/key-record.js';
import { recordApprovals, takeApprovals, writeRequest, type ActInput, type ApprovalInput, type Gathered, type WrittenRequest } from './approve.js';
import type { Operator } from './kernel/operator.js';
import { withSession, type IdentityPaths, type Session } from './kernel/session.js';
import { openShards, type OpenedShard } from './kernel/shards.js';

// Emergency recovery of the private key (CEREMONY.md, "Emergency: recovering the private key";
// docs/ARCHITECTURE.md §1 step 6): the playbook's RECOVER_PRIVATE_KEY. Before anything is
// unlocked: the recipient must be an age X25519 recipient, --out must not exist, t custodians of
// the key must be named, and the approvals (files, or approvers in the room) must reach the
// policy's quorum by the fold's rules. Then the custodians open their shards of the current
// epoch. Records, in order: ceremony.start, the checklist confirmations, one approval per
// approver, recover.intent (key, epoch, recipient, the custodians whose shards are used, the
// request it consumes), recover.result (kind "private-key": the fold marks the key compromised
// for good, so nodes and `sign` refuse it; its subject is the key record as it now stands),
// ceremony.seal (generator and witness). Between the intent and the result, the secret is
// combined from the shards (and must give the public key) and sealed to the recipient in
// memory; after the result it is written only as that ciphertext, created exclusively, 0600.

export interface RecoverKeyInput extends ApprovalInput {
  ws: Workspace;
  operator: Operator;
  keyId: string;
  /** The age X25519 recipient the key is sealed to. */
  to: string;
  /** The t custodians whose shards are combined. */
  custodians: string[];
  witness?: string;
  shards?: Map<string, string>; // custodian → shard path, when not at the standard path
  identities?: IdentityPaths;
  /** Where the age file goes. */
  out: string;
}

export interface RecoverKeyResult {
  keyId: string;
  engine: string;
  epoch: number;
  publicKey: string;
  recipient: string;
  custodians: string[];
  approvers: string[];
  file: string;
  ceremony: string;
  sealed: Sealed;
}

const SCRIPT = 'recover-private-key';

/** `recover private-key --request-out`: the request for this very recovery (key, epoch, recipient), for the approvers' own devices; nothing recorded. */
export function requestKeyRecovery(i: { ws: Workspace; operator: Operator; keyId: string; to: string; out: string; ttlMs: number }): Promise<WrittenRequest> {
  return withSession({ ws: i.ws, operator: i.operator, label: `request recovering ${i.keyId}` }, async (s) => {
    const r = s.key(i.keyId);
    return writeRequest(s, SCRIPT, actOf(r, checkRecoveryRecipient(i.to)), { out: i.out, ttlMs: i.ttlMs });
  });
}

export function recoverPrivateKey(i: RecoverKeyInput): Promise<RecoverKeyResult> {
  return withSession({ ws: i.ws, operator: i.operator, label: `recover private-key ${i.keyId}` }, async (s) => {
    const r = s.key(i.keyId);
    const to = checkRecoveryRecipient(i.to);
    if (existsSync(i.out)) throw new FileExistsError(i.out);
    const custodians = checkCustodians(r, i.custodians);
    const approved = await approve(s, i, r, to);
    const approvers = approved.approvals.map((g) => g.approval.approver);
    const generator = await s.unlockSole('generator', { identities: i.identities });
    const witness = await s.unlockSole('witness', { name: i.witness, identities: i.identities });
    const opened = await openShards(s, r, custodians, i);
    await s.checklist(SCRIPT, 'ceremony.start', `key ${r.label} (${r.keyId}), epoch ${r.epoch}, public key ${r.publicKey}`);
    await s.checklist(SCRIPT, 'recover.intent', `recipient ${to}`);
    const out = await s.run({ script: SCRIPT, actor: generator, params: { keyId: r.keyId, epoch: r.epoch } }, async (c) => {
      await recordApprovals(s, c, approved.approvals);
      await c.record({ step: 'recover.intent', actor: generator, params: { target: r.keyId, keyId: r.keyId, epoch: r.epoch, recipient: to, custodians, request: approved.digest } });
      const sealed = await combineAndSeal(r, opened, to);
      const compromised: KeyRecord = { ...r, status: 'compromised' };
      await c.record({
        step: 'recover.result',
        actor: generator,
        params: { kind: 'private-key', keyId: r.keyId, epoch: r.epoch, recipient: to, custodians },
        result: { publicKey: r.publicKey, sha256: sha256Hex(sealed) },
        subjects: [{ name: i.ws.relative(i.ws.keyFile(r.keyId)), sha256: sha256Hex(keyRecordBytes(compromised)) }],
      });
      // Only now, with the key compromised on record: a file that fails to appear leaves a key
      // already given up, never a key out in the world that the transcript still calls active.
      createFile(i.out, sealed, 0o600);
      return {};
    }, [witness]);
    return { keyId: r.keyId, engine: r.engine, epoch: r.epoch, publicKey: r.publicKey, recipient: to, custodians, approvers, file: i.out, ceremony: out.ceremony, sealed: out.sealed };
  });
}

/** The named custodians hold parties of the key, each once, and are at least its threshold. */
function checkCustodians(r: KeyRecord, named: string[]): string[] {
  if (new Set(named).size !== named.length) throw new KeyriteError('USAGE', 'a custodian is named twice');
  const holders = r.parties.map((p) => p.custodian);
  const stranger = named.find((n) => !holders.includes(n));
  if (stranger) throw new KeyriteError('NOT_PERMITTED', `${stranger} holds no shard of key ${r.keyId}; its custodians are ${holders.join(', ')}`);
  if (named.length < r.threshold) {
    throw new KeyriteError('COMBINE_TOO_FEW_SHARES', `key ${r.keyId} needs the shards of ${r.threshold} of its custodians (${holders.join(', ')}); ${named.length} named (${named.join(', ') || 'none'})`);
  }
  return named;
}

/** The approvals of recovering this key at this epoch to this recipient, by the policy's quorum. */
function approve(s: Session, i: RecoverKeyInput, r: KeyRecord, to: string): Promise<Gathered> {
  return takeApprovals(s, SCRIPT, actOf(r, to), i, `recovering the private key of ${r.keyId}`);
}

/** What the approvers approve: recovering this key, at this epoch, to this recipient. */
const actOf = (r: KeyRecord, to: string): ActInput => ({ target: r.keyId, parameters: { epoch: r.epoch, recipient: to } });

/** The secret, combined and checked against the public key (Engine.combine), sealed to `to`; no plaintext outlives this. */
async function combineAndSeal(r: KeyRecord, opened: OpenedShard[], to: string): Promise<Uint8Array> {
  const key = getEngine(r.engine).combine(opened.map((o) => o.shard.share));
  if (key.keyId !== r.keyId || key.publicKey !== r.publicKey) {
    throw new KeyriteError('COMBINE_WRONG_KEY', `the combined key is ${key.keyId} with public key ${key.publicKey}, not the record of ${r.keyId}`);
  }
  return sealRecoveredKey(r, key, to);
}
