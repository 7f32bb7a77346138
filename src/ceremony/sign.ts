import { sha256Hex } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { withLock } from '../fs/lock.js';
import { readBytes, type Workspace } from '../fs/workspace.js';
import type { Identity } from '../custody/identity.js';
import { getEngine, sessionIdOf, type SessionParams } from '../engine/index.js';
import { loadKeyRecord, type KeyRecord } from '../state/key-record.js';
import { drive } from '../node/drive.js';
import { sealForNode, signerNodes, signRequest, type SignRequest } from '../node/request.js';
import { checkShardFor, openShard, shardPath, type ShardPayload } from '../custody/shard.js';
import { pgpWords } from '../base/pgpwords.js';
import { loadRoster, member, requireSealed, rosterDigest, type Roster } from '../state/roster.js';
import { inCeremony } from './evidence.js';
import { inProcess, recordAttestation, unlockSole, type IdentityPaths, type NodeConnector } from './nodes.js';
import type { Operator } from './operator.js';
import { unlockPerson } from './unlock.js';

// Just-in-time signing (DESIGN §1 step 4): each signing custodian opens their shard, confirms the
// message digest, and signs the signing request; their node checks the request, signs its part
// and forgets the share; every node then attests that it holds nothing for the key. The result
// is checked with the engine's verifier before anyone sees it.

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

interface Opened {
  custodian: Identity;
  shard: ShardPayload;
  how: 'prompt' | 'yes';
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

async function openSignerShard(i: SignInput, roster: Roster, r: KeyRecord, name: string, digest: string): Promise<Opened> {
  const path = i.shards?.get(name) ?? shardPath(i.ws, name, r.keyId, r.epoch);
  const what = `the shard of ${name} (${path})`;
  const bytes = readBytes(path, what);
  const custodian = await unlockPerson(i.ws, roster, i.operator, name, 'custodian', i.identities?.get(name));
  const shard = await openShard(bytes, custodian.ageIdentity, what);
  checkShardFor(r, shard, name, what);
  const how = await i.operator.confirm(`${name}: sign with key ${r.label} (${r.keyId}) the message whose sha256 is ${digest} (${pgpWords(digest)})? Compare it with your copy.`);
  return { custodian, shard, how };
}

export async function signMessage(i: SignInput): Promise<SignResult> {
  return withLock(i.ws.requireExists().root, `sign ${i.keyId}`, async () => {
    const roster = requireSealed(loadRoster(i.ws));
    const r = loadKeyRecord(i.ws, i.keyId);
    if (r.status !== 'active') throw new KeyriteError('KEY_NOT_ACTIVE', `key ${r.keyId} is ${r.status}; it no longer signs`);
    const engine = getEngine(r.engine);
    if (r.engine === 'bip340' && i.message.length !== 32) {
      throw new KeyriteError('BAD_MESSAGE', `a bip340 key signs 32-byte messages (a sighash); this message is ${i.message.length} bytes`);
    }
    const signers = r.parties.filter((p) => i.signers.includes(p.custodian)).map((p) => p.custodian);
    const nodeIds = checkSigners(r, i.signers);
    const generator = await unlockSole(i.ws, roster, i.operator, 'generator', { identities: i.identities });
    const connect = i.connect ?? inProcess(i.ws);
    const nodes = await Promise.all(nodeIds.map((id) => connect(id, generator)));
    for (const n of nodes) {
      if ((await n.holdings()).some((h) => h.keyId === r.keyId)) {
        throw new KeyriteError('NODE_NOT_EMPTY', `node ${n.id} still holds a share of key ${r.keyId}; signing just in time needs the shares exported to the custodians and deleted from the nodes first`);
      }
    }
    const digest = sha256Hex(i.message);
    const opened: Opened[] = [];
    for (const name of signers) opened.push(await openSignerShard(i, roster, r, name, digest));

    const out = await inCeremony(i.ws, i.operator, { script: 'sign', actor: generator, params: { keyId: r.keyId, epoch: r.epoch } }, async (c) => {
      const session: SessionParams = {
        engine: r.engine, keyId: r.keyId, epoch: r.epoch, participants: nodeIds, t: r.threshold, n: r.parties.length, ceremonyId: c.id, rosterDigest: rosterDigest(roster),
      };
      const request: SignRequest = { v: 1, keyId: r.keyId, epoch: r.epoch, messageDigest: digest, signers, sessionId: sessionIdOf(session) };
      // The intent is on record before any custodian signs a request or any node sees a share.
      await c.record({ step: 'sign.intent', actor: generator, params: { keyId: r.keyId, epoch: r.epoch, messageDigest: digest, signers, nodes: nodeIds, sessionId: request.sessionId } });
      const signed = new Map<string, ReturnType<typeof signRequest>>();
      for (const o of opened) {
        const name = o.custodian.name;
        await c.confirm('sign.request', 0, o.custodian, o.how);
        await c.record({ step: 'sign.request', actor: o.custodian, params: { keyId: r.keyId, epoch: r.epoch, messageDigest: digest, signers, sessionId: request.sessionId } });
        signed.set(o.shard.node, signRequest(name, o.custodian.signing, request));
      }
      const shareOf = new Map<string, string>();
      for (const o of opened) shareOf.set(o.shard.node, await sealForNode(member(roster, o.shard.node, 'node').recipient, o.shard.share));
      const outputs = await i.operator.progress(`Signing with ${nodeIds.join(', ')}`, () =>
        drive(nodes, request.sessionId, (node) => node.startSign({ session, request: signed.get(node.id)!, share: shareOf.get(node.id)!, message: Buffer.from(i.message).toString('hex') })));
      shareOf.clear();
      const signatures = new Set(Object.values(outputs) as string[]);
      const signature = [...signatures][0]!;
      if (signatures.size !== 1 || !engine.verify(r.publicKey, i.message, signature)) {
        throw new KeyriteError('SIGNATURE_INVALID', `the nodes' signature does not verify under key ${r.keyId}; it is not released`);
      }
      await c.record({ step: 'sign.result', actor: generator, params: { keyId: r.keyId, epoch: r.epoch, nodes: nodeIds, sessionId: request.sessionId, messageDigest: digest }, result: { signature } });
      for (const node of nodes) {
        const holds = await recordAttestation(c, i.ws, node);
        if (holds.some((h) => h.keyId === r.keyId)) throw new KeyriteError('NODE_NOT_EMPTY', `node ${node.id} still holds key ${r.keyId} after signing`);
      }
      return { signature };
    });
    return { keyId: r.keyId, engine: r.engine, publicKey: r.publicKey, signature: out.signature, messageDigest: digest, signers, nodes: nodeIds, ceremony: out.ceremony };
  });
}
