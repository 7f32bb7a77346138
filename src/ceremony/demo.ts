import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { KeyriteError } from '../base/errors.js';
import type { Workspace } from '../fs/workspace.js';
import { FAST_WORK_FACTOR } from '../base/kdf.js';
import { ceremonyFiles } from '../evidence/chain.js';
import { DEFAULT_POLICY } from '../state/policy.js';
import { verifyTranscripts } from '../audit/verify.js';
import { setupCustodian } from './custodian-setup.js';
import { DemoOperator } from './demo-operator.js';
import { enrolPerson } from './enrol.js';
import { checkGuardianShare } from './guardian-check.js';
import { releaseGuardianShare } from './guardian-release.js';
import { independentVerify } from './independent-verify.js';
import { initWorkspace } from './init.js';
import { keygen } from './keygen.js';
import { completeRecovery, startRecovery } from './recover-custodian.js';
import { sealRosterCeremony } from './roster-seal.js';
import { checkShard } from './shard-check.js';
import { signMessage } from './sign.js';
import { retireKey } from './key-retire.js';
import { recoverPrivateKey } from './recover-private-key.js';
import { decryptWith, newAgeIdentity } from '../base/age.js';
import { readBytes } from '../fs/workspace.js';
import type { RecoveredDocument } from '../custody/recovered-key.js';
import { rmSync } from 'node:fs';
import { shardPath } from '../custody/shard.js';
import { approve } from './approve.js';
import { refreshKey, requestRefresh, type EpochChange } from './refresh.js';
import { repairShare } from './repair.js';
import { reshareKey } from './reshare.js';
import { rotateCustodian } from './rotate.js';

// The whole lifecycle, unattended, in a workspace of its own: what the README's first command
// runs. Each step is the same ceremony code the commands use, with the demo operator.

export interface DemoStep {
  step: string;
  detail: string;
}

export interface DemoReport {
  workspace: string;
  steps: DemoStep[];
  recovered: { custodian: string; recipient: string; guardians: string[] };
  /** The emergency recovery of the bip340 key, opened by its recipient; the ecdsa key retired. */
  emergency: { keyId: string; publicKey: string; descriptor: string };
  retired: string;
  signatures: DemoSignature[];
  /** Each epoch change of the ed25519 key, with its public key and address before and after: they do not move. */
  epochs: DemoEpoch[];
  audit: { entries: number; ceremonies: number; head: string | null };
}

export interface DemoSignature {
  engine: string;
  keyId: string;
  publicKey: string;
  address: string;
  message: string; // hex: what was signed
  /** bip340, ecdsa: the text whose sha256 is `message`, for verifiers that hash themselves (openssl dgst -sha256). */
  preimage?: string; // hex
  signature: string; // hex
}

export interface DemoEpoch {
  operation: string;
  keyId: string;
  before: { epoch: number; publicKey: string; address: string };
  after: { epoch: number; publicKey: string; address: string };
}

const ENGINES = ['ed25519', 'bip340', 'ecdsa'];
const VERIFIERS: Record<string, string> = { ed25519: 'OpenSSL Ed25519', bip340: 'noble BIP-340', ecdsa: 'OpenSSL ECDSA-SHA256' };

// What each engine signs: raw bytes for ed25519; for bip340 and ecdsa a 32-byte digest of them,
// as a sighash or a transaction hash would be.
function demoMessage(engine: string): { message: Uint8Array; preimage?: Uint8Array } {
  const text = Buffer.from(`keyrite demo: pay 1 unit with the ${engine} treasury key`, 'utf8');
  return engine === 'ed25519' ? { message: text } : { message: createHash('sha256').update(text).digest(), preimage: text };
}

const CUSTODIANS = ['alice', 'bob', 'carol'];
const GUARDIANS: Record<string, string[]> = {
  alice: ['ana', 'arun', 'ayla', 'amir', 'aiko'],
  bob: ['bea', 'bram', 'bilal', 'bo', 'bianca'],
  carol: ['cai', 'chen', 'cleo', 'cyrus', 'cora'],
};

export async function runDemo(ws: Workspace, onStep: (s: DemoStep) => void = () => undefined): Promise<DemoReport> {
  const operator = new DemoOperator();
  const logN = FAST_WORK_FACTOR;
  const steps: DemoStep[] = [];
  const record = (step: string, detail: string) => {
    const s = { step, detail };
    steps.push(s);
    onStep(s);
  };

  const init = await initWorkspace({ ws, policy: DEFAULT_POLICY, generator: 'generator', operator, logN });
  record('init', `workspace with ${init.nodes.length} nodes; generator ${init.generator.fingerprint.slice(0, 16)}`);
  for (const c of CUSTODIANS) await enrolPerson({ ws, name: c, role: 'custodian', operator, logN });
  for (const g of Object.values(GUARDIANS).flat()) await enrolPerson({ ws, name: g, role: 'guardian', operator, logN });
  await enrolPerson({ ws, name: 'wanda', role: 'witness', operator, logN });
  record('enrol', `custodians ${CUSTODIANS.join(', ')}; 15 guardians; witness wanda`);
  const seal = await sealRosterCeremony({ ws, operator, identities: new Map() });
  record('roster seal', `version ${seal.version}, signed by the generator and wanda; head ${seal.sealed.head.slice(0, 16)}`);

  // Keygen with export and deletion: each node's share leaves only as a shard to its custodian.
  const keys: { engine: string; keyId: string; address: string }[] = [];
  for (const engine of ENGINES) {
    const k = await keygen({ ws, engine, custodians: CUSTODIANS, label: `${engine}-treasury`, export: true, deleteAfterExport: true, operator });
    const address = Object.values(k.record.addresses).join(' ');
    keys.push({ engine, keyId: k.record.keyId, address });
    record('keygen', `${engine} key ${k.record.keyId} (2-of-3), address ${address}; shards exported, every node emptied and attested`);
  }

  for (const c of CUSTODIANS) {
    const r = await setupCustodian({ ws, custodian: c, guardians: GUARDIANS[c]!, k: DEFAULT_POLICY.guardianThreshold, operator });
    record('custodian setup', `${c}'s age key split ${r.k}-of-${r.m} among ${GUARDIANS[c]!.join(', ')}`);
  }

  // Just in time: two custodians open their shards; an independent verifier checks the result.
  const signatures: DemoSignature[] = [];
  for (const { engine, keyId, address } of keys) {
    const { message, preimage } = demoMessage(engine);
    const sig = await signMessage({ ws, keyId, signers: ['alice', 'carol'], message, operator });
    if (!independentVerify(engine, sig.publicKey, message, sig.signature, preimage)) {
      throw new KeyriteError('SIGNATURE_INVALID', `the ${engine} signature does not verify with an independent verifier`);
    }
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    signatures.push({ engine, keyId, publicKey: sig.publicKey, address, message: hex(message), ...(preimage ? { preimage: hex(preimage) } : {}), signature: sig.signature });
    record('sign', `${engine}: alice and carol signed just in time on ${sig.nodes.join(', ')}; ${VERIFIERS[engine]} verifies ${sig.signature.slice(0, 16)}…; the nodes attested empty`);
  }
  const epochs = await hardDays(ws, operator, keys[0]!.keyId, record);
  const drill = await checkShard({ ws, keyId: keys[0]!.keyId, custodian: 'bob', operator });
  record('shard check', `bob's shard of ${drill.keyId} opens and matches party ${drill.party}, unused`);


  for (const g of GUARDIANS.alice!) await checkGuardianShare({ ws, guardian: g, custodian: 'alice', operator });
  record('guardian check', `alice's five guardians each opened their share`);

  // alice loses her identity: bob and carol approve a recovery session, witnessed; three of
  // her guardians release to its recorded one-off recipient.
  const quorum = { approvers: ['bob', 'carol'], identities: new Map<string, string>() };
  const request = await startRecovery({ ws, custodian: 'alice', operator, logN, ...quorum });
  record('recover start', `bob and carol approved session ${request.session}; one-off recipient fingerprint ${request.fingerprint.slice(0, 16)}`);
  const released = new Map<string, string>();
  for (const g of ['ana', 'ayla', 'aiko']) {
    const r = await releaseGuardianShare({ ws, guardian: g, custodian: 'alice', session: request.session, to: request.recipient, operator });
    released.set(g, r.path);
  }
  const out = join(ws.holdingsDir('alice'), `recovered-${request.session}`);
  const rec = await completeRecovery({ ws, custodian: 'alice', operator, logN, out, session: request.session, released, ...quorum });
  record('recover custodian', `alice's age key rebuilt from ${rec.guardians.join(', ')}; new identity ${rec.pub.fingerprint.slice(0, 16)}`);
  // Her shards were in the recovery's hands: they sign again only after she rotates, from the
  // identity the recovery issued (the one at her standard path is retired).
  const rotated = await rotateCustodian({ ws, operator, custodian: 'alice', logN, ...quorum, approvals: [], identities: new Map([['alice', rec.file]]) });
  record('rotate', `alice rotates to identity ${rotated.pub.fingerprint.slice(0, 16)} under bob's and carol's approval, witnessed: ${rotated.shards.length} shards re-wrapped on her device, her new age key split among ${rotated.guardians.join(', ')}`);
  const ecdsaKey = keys.find((k) => k.engine === 'ecdsa')!.keyId;
  const { message: ecdsaMessage, preimage } = demoMessage('ecdsa');
  const after = await signMessage({ ws, keyId: ecdsaKey, signers: ['alice', 'carol'], message: ecdsaMessage, operator });
  if (!independentVerify('ecdsa', after.publicKey, ecdsaMessage, after.signature, preimage)) throw new KeyriteError('SIGNATURE_INVALID', 'the ecdsa signature after the rotation does not verify');
  record('sign', `ecdsa: alice, with her new identity, and carol signed; ${VERIFIERS.ecdsa} verifies`);
  const emergency = await emergencyRecovery(ws, operator, keys.find((k) => k.engine === 'bip340')!.keyId);
  record('recover private-key', `bip340 key ${emergency.keyId} rebuilt from bob's and carol's shards under their approval, sealed to a one-off age recipient and opened there: public key ${emergency.publicKey.slice(0, 16)}… as recorded; the key is compromised`);
  const retired = await retireKey({ ws, operator, keyId: keys.find((k) => k.engine === 'ecdsa')!.keyId, approvals: [], approvers: ['bob', 'carol'], identities: new Map() });
  record('key retire', `ecdsa key ${retired.record.keyId} retired under bob's and carol's approval, witnessed: nodes and sign refuse it`);
  const audit = await verifyTranscripts({ files: ceremonyFiles(ws.transcriptsDir), root: ws.root, rosterFile: ws.rosterFile });
  if (!audit.ok) throw new KeyriteError('VERIFY_FAILED', `the demo's own evidence does not verify: ${JSON.stringify(audit.failures.slice(0, 3))}`);
  record('audit verify', `${audit.entries} entries in ${audit.ceremonies} ceremonies verify; head ${audit.head?.slice(0, 16)}`);
  return {
    workspace: ws.root, steps, signatures, epochs, audit: { entries: audit.entries, ceremonies: audit.ceremonies, head: audit.head },
    recovered: { custodian: 'alice', recipient: rec.pub.recipient, guardians: rec.guardians }, emergency, retired: retired.record.keyId,
  };
}

/**
 * The emergency playbook on the demo's bip340 key: the recipient's age identity lives only in
 * memory here (in practice on the recipient's own device); the file is opened with it and its
 * public key compared with the key record's, as CEREMONY.md asks the recipient to do.
 */
async function emergencyRecovery(ws: Workspace, operator: DemoOperator, keyId: string): Promise<{ keyId: string; publicKey: string; descriptor: string }> {
  const recipient = await newAgeIdentity();
  const r = await recoverPrivateKey({ ws, operator, keyId, to: recipient.recipient, custodians: ['bob', 'carol'], approvals: [], approvers: ['bob', 'carol'], out: join(ws.root, `${keyId}.key.age`) });
  const plaintext = await decryptWith(recipient.identity, readBytes(r.file, 'the recovered key'), 'the recovered key');
  const doc = JSON.parse(Buffer.from(plaintext).toString('utf8')) as RecoveredDocument;
  plaintext.fill(0);
  if (doc.keyId !== keyId || doc.publicKey !== r.publicKey) throw new KeyriteError('VERIFY_FAILED', `the recovered key file holds key ${doc.keyId} (${doc.publicKey}), not ${keyId} (${r.publicKey})`);
  return { keyId, publicKey: doc.publicKey, descriptor: doc.descriptor ?? '' };
}

/** The key's public face at an epoch: what an epoch change must leave as it was. */
const face = (c: EpochChange, epoch: number) => ({ epoch, publicKey: c.publicKey, address: Object.values(c.addresses)[0] ?? '' });
const epochOf = (operation: string, c: EpochChange): DemoEpoch => ({ operation, keyId: c.keyId, before: face(c, c.epochBefore), after: face(c, c.epoch) });

/**
 * The key's hard days, each under bob's and carol's approval and witnessed: a refresh approved
 * from files signed on the approvers' own devices; bob's lost shard repaired by alice and carol;
 * carol leaving by a reshare to alice and bob; then alice and bob sign with the new shares.
 */
async function hardDays(ws: Workspace, operator: DemoOperator, keyId: string, record: (step: string, detail: string) => void): Promise<DemoEpoch[]> {
  const quorum = { approvals: [], approvers: ['bob', 'carol'], identities: new Map<string, string>() };
  const req = await requestRefresh({ ws, operator, keyId, out: join(ws.root, 'refresh.request.json'), ttlMs: 3600_000 });
  const files: string[] = [];
  for (const a of ['bob', 'carol']) {
    const f = join(ws.root, `${a}.approval.json`);
    await approve({ ws, operator, request: req.file, approver: a, identities: new Map(), out: f });
    files.push(f);
  }
  const refreshed = await refreshKey({ ws, operator, keyId, approvals: files, approvers: [] });
  record('refresh', `ed25519 key: every share renewed, epoch ${refreshed.epochBefore} → ${refreshed.epoch}, same public key; bob and carol approved on their own devices (request ${req.digest.slice(0, 16)}…)`);
  rmSync(shardPath(ws, 'bob', keyId, refreshed.epoch));
  const repaired = await repairShare({ ws, operator, keyId, custodian: 'bob', helpers: ['alice', 'carol'], ...quorum, approvers: ['alice', 'carol'] });
  record('repair', `bob's lost shard rebuilt by ${repaired.helpers.join(' and ')} on their nodes; no share changed, epoch ${repaired.epoch}`);
  const reshared = await reshareKey({ ws, operator, keyId, custodians: ['alice', 'bob'], threshold: 2, ...quorum, approvers: ['alice', 'bob'] });
  record('reshare', `carol leaves: alice and bob hold the key ${reshared.threshold}-of-${reshared.custodians.length}, epoch ${reshared.epochBefore} → ${reshared.epoch}, same public key`);
  const { message } = demoMessage('ed25519');
  const sig = await signMessage({ ws, keyId, signers: ['alice', 'bob'], message, operator });
  if (!independentVerify('ed25519', sig.publicKey, message, sig.signature)) throw new KeyriteError('SIGNATURE_INVALID', 'the ed25519 signature after the epoch changes does not verify');
  record('sign', `ed25519 at epoch ${reshared.epoch}: alice and bob signed; ${VERIFIERS.ed25519} verifies under the same public key`);
  return [epochOf('refresh', refreshed), epochOf('reshare', reshared)];
}
