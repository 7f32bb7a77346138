import { sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { MAX_MESSAGE_BYTES } from '../base/limits.js';
import { pgpWords } from '../base/pgpwords.js';
import type { Workspace } from '../fs/workspace.js';
import { getEngine, sessionIdOf, type SessionParams } from '../engine/index.js';
import { drive } from '../node/drive.js';
import { sealForNode, signerNodes, signRequest, type SignRequest, type SignedRequest } from '../node/request.js';
import type { KeyRecord } from '../state/key-record.js';
import { member } from '../state/roster.js';
import { attestEmpty, inProcess, type NodeConnector } from './kernel/nodes.js';
import type { Operator } from './kernel/operator.js';
import { withSession, type IdentityPaths } from './kernel/session.js';
import { openCustodianShard, type OpenedShard } from './kernel/shards.js';

// Just-in-time signing (docs/ARCHITECTURE.md §1 step 4): each signing custodian opens their shard and confirms
// the message digest; their node checks the custodian's signed request, signs its part and
// forgets the share; every node then attests that it holds nothing for the key. The result is
// checked with the engine's verifier before anyone sees it. Records, in order: ceremony.start,
// the confirmations (each custodian's, with the digest they were shown), sign.intent, one
// sign.request per custodian, sign.result, one node.attest per node, ceremony.seal.

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
}

/** Checks the signer set against the key before anyone types a passphrase. */
function checkSigners(r: KeyRecord, signers: string[]): string[] {
  if (new Set(signers).size !== signers.length) throw new KeyriteError('USAGE', 'a signer is named twice');
  const nodes = signerNodes(r, signers);
  if (nodes.length < r.threshold) {
    throw new KeyriteError('TOO_FEW_SIGNERS', `key ${r.keyId} needs ${r.threshold} of its ${r.parties.length} custodians to sign; ${signers.length} given (${signers.join(', ') || 'none'})`);
  }
  return nodes;
}

export async function signMessage(i: SignInput): Promise<SignResult> {
  return withSession({ ws: i.ws, operator: i.operator, label: `sign ${i.keyId}` }, async (s) => {
    const r = s.key(i.keyId);
    const engine = getEngine(r.engine);
    if (i.message.length > MAX_MESSAGE_BYTES) throw new KeyriteError('TOO_LARGE', `the message is ${i.message.length} bytes, more than the ${MAX_MESSAGE_BYTES} keyrite signs`);
    if (r.engine === 'bip340' && i.message.length !== 32) {
      throw new KeyriteError('BAD_MESSAGE', `a bip340 key signs 32-byte messages (a sighash); this message is ${i.message.length} bytes`);
    }
    const signers = r.parties.filter((p) => i.signers.includes(p.custodian)).map((p) => p.custodian);
    const nodeIds = checkSigners(r, i.signers);
    const generator = await s.unlockSole('generator', { identities: i.identities });
    const connect = i.connect ?? inProcess(i.ws);
    const nodes = await Promise.all(nodeIds.map((id) => connect(id, generator, s.state)));
    for (const n of nodes) {
      if ((await n.holdings()).some((h) => h.keyId === r.keyId)) {
        throw new KeyriteError('NODE_NOT_EMPTY', `node ${n.id} still holds a share of key ${r.keyId}; it must be exported and deleted before signing just in time`, { node: n.id });
      }
    }
    const digest = sha256Hex(i.message);
    const opened: OpenedShard[] = [];
    for (const name of signers) {
      const o = await openCustodianShard(s, r, name, { path: i.shards?.get(name), identity: i.identities?.get(name) });
      await s.checklist('sign', 'sign.request', `${name}: key ${r.label} (${r.keyId}), message sha256 ${digest}, ${pgpWords(digest)}`, o.custodian);
      opened.push(o);
    }

    const out = await s.run({ script: 'sign', actor: generator, params: { keyId: r.keyId, epoch: r.epoch } }, async (c) => {
      const session: SessionParams = {
        engine: r.engine, keyId: r.keyId, epoch: r.epoch, participants: nodeIds, t: r.threshold, n: r.parties.length, ceremonyId: c.id, rosterDigest: s.state.rosterDigest,
      };
      const request: SignRequest = { v: 1, keyId: r.keyId, epoch: r.epoch, messageDigest: digest, signers, sessionId: sessionIdOf(session) };
      // The intent is on record before any custodian signs a request or any node sees a share.
      await c.record({ step: 'sign.intent', actor: generator, params: { keyId: r.keyId, epoch: r.epoch, messageDigest: digest, signers, nodes: nodeIds, sessionId: request.sessionId } });
      const signed = new Map<string, SignedRequest>();
      for (const o of opened) {
        await c.record({ step: 'sign.request', actor: o.custodian, params: { keyId: r.keyId, epoch: r.epoch, messageDigest: digest, signers, sessionId: request.sessionId } });
        signed.set(o.shard.node, signRequest(o.custodian.name, o.custodian.signing, request));
      }
      const shareOf = new Map<string, string>();
      for (const o of opened) shareOf.set(o.shard.node, await sealForNode(member(s.roster, o.shard.node, 'node').recipient, o.shard.share));
      const outputs = await i.operator.progress(`Signing with ${nodeIds.join(', ')}`, () =>
        drive(nodes, request.sessionId, (node) => node.start('sign', session, { request: signed.get(node.id)!, share: shareOf.get(node.id)!, message: Buffer.from(i.message).toString('hex') })));
      shareOf.clear();
      const signatures = new Set(Object.values(outputs) as string[]);
      const signature = [...signatures][0]!;
      if (signatures.size !== 1 || !engine.verify(r.publicKey, i.message, signature)) {
        throw new KeyriteError('SIGNATURE_INVALID', `the nodes' signature does not verify under key ${r.keyId}; it is not released`);
      }
      await c.record({ step: 'sign.result', actor: generator, params: { keyId: r.keyId, epoch: r.epoch, nodes: nodeIds, sessionId: request.sessionId, messageDigest: digest }, result: { signature } });
      await attestEmpty(c, nodes, r.keyId, 'signing');
      return { signature };
    });
    return { keyId: r.keyId, engine: r.engine, publicKey: r.publicKey, signature: out.signature, messageDigest: digest, signers, nodes: nodeIds, ceremony: out.ceremony };
  });
}
