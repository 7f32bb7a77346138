import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../base/canonical.js';
import { createFile } from '../fs/atomic.js';
import type { Identity } from '../custody/identity.js';
import { makeReceipt, receiptBytes, type ReceiptBody } from '../evidence/receipt.js';
import { KeyriteError } from '../base/errors.js';
import { MAX_MESSAGE_BYTES } from '../base/limits.js';
import { pgpWords } from '../base/pgpwords.js';
import type { Workspace } from '../fs/workspace.js';
import { getEngine, sessionIdOf, type SessionParams } from '../engine/index.js';
import type { Ceremony, Sealed } from '../evidence/writer.js';
import type { NodeClient } from '../node/client.js';
import { drive } from '../node/drive.js';
import { sealForNode, signerNodes, signRequest, type SignRequest, type SignedRequest } from '../node/request.js';
import type { KeyRecord } from '../state/key-record.js';
import { member } from '../state/roster.js';
import { benchFor } from '../audit/blame-rules.js';
import { attestEmpty, connectEmpty, inProcess, type NodeConnector } from './kernel/nodes.js';
import type { Operator } from './kernel/operator.js';
import { withSession, type IdentityPaths, type Session } from './kernel/session.js';
import { openShards, type OpenedShard } from './kernel/shards.js';

// Just-in-time signing (docs/ARCHITECTURE.md §1 step 4): each signing custodian opens their shard and confirms
// the message digest; their node checks the custodian's signed request, signs its part and
// forgets the share; every node then attests that it holds nothing for the key. The result is
// checked with the engine's verifier before anyone sees it. Records, in order: ceremony.start,
// the confirmations (each custodian's, with the digest they were shown), sign.intent, one
// sign.request per custodian, sign.result, one node.attest per signing node, ceremony.seal. A run
// that fails records each node's node.attest (with any party it now refuses) before ceremony.abort.
// After the seal, each signing custodian gets a receipt signed by the generator naming the
// ceremony and its head (evidence/receipt.ts), in holdings/<signer>/: `audit verify` given it
// fails if that ceremony is later erased from the history.

export interface SignInput {
  ws: Workspace;
  keyId: string;
  signers: string[];
  message: Uint8Array;
  shards?: Map<string, string>; // custodian → shard path, when not at the standard path
  identities?: IdentityPaths; // anyone's identity file (generator or custodian), when not at the standard path
  operator: Operator;
  connect?: NodeConnector;
}

export interface SignResult {
  keyId: string;
  engine: string;
  publicKey: string;
  signature: string;
  messageDigest: string;
  signers: string[];
  nodes: string[];
  ceremony: string;
  sealed: Sealed;
  /** Each signer's receipt file, relative to the workspace. */
  receipts: { signer: string; file: string }[];
}

/** Writes each signer's receipt for the sealed ceremony; their paths, relative to the workspace. */
function writeReceipts(ws: Workspace, generator: Identity, body: Omit<ReceiptBody, 'signer'>, signers: string[]): { signer: string; file: string }[] {
  return signers.map((signer) => {
    const dir = ws.holdingsDir(signer);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${signer}.${body.ceremony}.receipt.json`);
    createFile(file, receiptBytes(makeReceipt(generator, { ...body, signer })), 0o644);
    return { signer, file: ws.relative(file) };
  });
}

// BIP-340 and ECDSA sign a 32-byte digest the wallet computed (a sighash, a transaction hash);
// Ed25519 signs the message itself (RFC 8032 §5.1.6).
const DIGEST_ENGINES = ['bip340', 'ecdsa'];

/** Checks the signer set against the key before anyone types a passphrase. */
function checkSigners(r: KeyRecord, signers: string[]): string[] {
  if (new Set(signers).size !== signers.length) throw new KeyriteError('USAGE', 'a signer is named twice');
  const nodes = signerNodes(r, signers);
  if (nodes.length < r.threshold) {
    throw new KeyriteError('TOO_FEW_SIGNERS', `key ${r.keyId} needs ${r.threshold} of its ${r.parties.length} custodians to sign; ${signers.length} given (${signers.join(', ') || 'none'})`);
  }
  return nodes;
}

/** Refused before anyone unlocks: a message over the cap, or not a 32-byte digest for BIP-340 and ECDSA. */
function checkMessage(r: KeyRecord, message: Uint8Array): void {
  if (message.length > MAX_MESSAGE_BYTES) throw new KeyriteError('TOO_LARGE', `the message is ${message.length} bytes, more than the ${MAX_MESSAGE_BYTES} keyrite signs`);
  if (DIGEST_ENGINES.includes(r.engine) && message.length !== 32) {
    throw new KeyriteError('BAD_MESSAGE', `a ${r.engine} key signs 32-byte messages (a sighash or transaction hash); this message is ${message.length} bytes`);
  }
}

/** Each custodian's sign.request on record, and the request they sign for their node. */
async function recordRequests(c: Ceremony, opened: OpenedShard[], request: SignRequest): Promise<Map<string, SignedRequest>> {
  const signed = new Map<string, SignedRequest>();
  const { keyId, epoch, messageDigest, signers, sessionId } = request;
  for (const o of opened) {
    await c.record({ step: 'sign.request', actor: o.custodian, params: { keyId, epoch, messageDigest, signers, sessionId } });
    signed.set(o.shard.node, signRequest(o.custodian.name, o.custodian.signing, request));
  }
  return signed;
}

/**
 * The nodes' run: each gets its custodian's share sealed to it and the signed request. A failed
 * run records every node's signed claim that it dropped the run (naming any party it now refuses,
 * for ecdsa) before the failure goes on. The signature must verify before anyone sees it.
 */
async function runNodes(c: Ceremony, s: Session, i: SignInput, r: KeyRecord, nodes: NodeClient[], session: SessionParams, signed: Map<string, SignedRequest>, opened: OpenedShard[]): Promise<string> {
  const shareOf = new Map<string, string>();
  for (const o of opened) shareOf.set(o.shard.node, await sealForNode(member(s.roster, o.shard.node, 'node').recipient, o.shard.share));
  const message = Buffer.from(i.message).toString('hex');
  const outputs = await i.operator.progress(`Signing with ${session.participants.join(', ')}`, () =>
    drive(nodes, benchFor(s.roster, session, 'sign'), (node) => node.start('sign', session, { request: signed.get(node.id)!, share: shareOf.get(node.id)!, message })),
  ).catch(async (e: unknown) => {
    await attestEmpty(c, nodes, r.keyId, 'the failed signing run').catch(() => undefined);
    throw e;
  });
  const signatures = new Set(Object.values(outputs) as string[]);
  const signature = [...signatures][0]!;
  if (signatures.size !== 1 || !getEngine(r.engine).verify(r.publicKey, i.message, signature)) {
    throw new KeyriteError('SIGNATURE_INVALID', `the nodes' signature does not verify under key ${r.keyId}; it is not released`);
  }
  return signature;
}

export async function signMessage(i: SignInput): Promise<SignResult> {
  return withSession({ ws: i.ws, operator: i.operator, label: `sign ${i.keyId}` }, async (s) => {
    const r = s.key(i.keyId);
    checkMessage(r, i.message);
    const signers = r.parties.filter((p) => i.signers.includes(p.custodian)).map((p) => p.custodian);
    const nodeIds = checkSigners(r, i.signers);
    const generator = await s.unlockSole('generator', { identities: i.identities });
    const nodes = await connectEmpty(i.connect ?? inProcess(i.ws), s.state, r, nodeIds, generator);
    const digest = sha256Hex(i.message);
    const opened = await openShards(s, r, signers, i, { script: 'sign', step: 'sign.request', context: (name) => `${name}: key ${r.label} (${r.keyId}), message sha256 ${digest}, ${pgpWords(digest)}` });
    const out = await s.run({ script: 'sign', actor: generator, params: { keyId: r.keyId, epoch: r.epoch } }, async (c) => {
      const session: SessionParams = {
        engine: r.engine, keyId: r.keyId, epoch: r.epoch, participants: nodeIds, t: r.threshold, n: r.parties.length, ceremonyId: c.id, rosterDigest: s.state.rosterDigest,
      };
      const request: SignRequest = { v: 1, keyId: r.keyId, epoch: r.epoch, messageDigest: digest, signers, sessionId: sessionIdOf(session) };
      const facts = { keyId: r.keyId, epoch: r.epoch, messageDigest: digest, sessionId: request.sessionId };
      // The intent is on record before any custodian signs a request or any node sees a share.
      // The message itself is public, and on record so that an auditor can check the signature.
      await c.record({ step: 'sign.intent', actor: generator, params: { ...facts, signers, nodes: nodeIds, message: Buffer.from(i.message).toString('hex') } });
      const signed = await recordRequests(c, opened, request);
      const signature = await runNodes(c, s, i, r, nodes, session, signed, opened);
      await c.record({ step: 'sign.result', actor: generator, params: { ...facts, nodes: nodeIds }, result: { signature } });
      await attestEmpty(c, nodes, r.keyId, 'signing');
      return { signature };
    });
    const receipts = writeReceipts(i.ws, generator, { ceremony: out.ceremony, head: out.sealed.head, keyId: r.keyId, epoch: r.epoch, messageDigest: digest }, signers);
    return { keyId: r.keyId, engine: r.engine, publicKey: r.publicKey, signature: out.signature, messageDigest: digest, signers, nodes: nodeIds, ceremony: out.ceremony, sealed: out.sealed, receipts };
  });
}
