import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { sha256Hex } from '../../src/base/canonical.js';
import type { Identity } from '../../src/custody/identity.js';
import type { ShardPayload } from '../../src/custody/shard.js';
import { BROADCAST, openDirect, sealDirect, sessionIdOf, signEnvelope, type Envelope, type SessionParams } from '../../src/engine/index.js';
import { Workspace } from '../../src/fs/workspace.js';
import { loadNodeIdentity } from '../../src/node/identity.js';
import { SigningNode } from '../../src/node/node.js';
import { sealForNode, signRequest, type SignRequest } from '../../src/node/request.js';
import type { CustodyState } from '../../src/state/fold.js';
import { member } from '../../src/state/roster.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { nodeDraft, signingWorkspace, signStart } from '../support/node.js';
import type { TestWorkspace } from '../support/workspace.js';

// The ecdsa ban (docs/ARCHITECTURE.md §3) in real in-process nodes: when node-2 sends node-1 a
// multiplication that fails node-1's consistency check, node-1 aborts, blames node-2, and from
// then on — also after a restart — refuses to sign that key's epoch with node-2; it still signs
// with node-3, and it names the ban in its signed attestation.

describe('a node bans a party that failed an ecdsa consistency check', () => {
  let tw: TestWorkspace;
  let ws: Workspace;
  let keyId: string;
  let state: CustodyState;
  let shards: Record<string, ShardPayload>;
  let people: Record<string, Identity>;
  const digest = Buffer.from(sha256Hex('a transaction hash'), 'hex');
  const custodianOf: Record<string, string> = { 'node-1': 'alice', 'node-2': 'bob', 'node-3': 'carol' };

  before(async () => {
    ({ tw, ws, keyId, state, shards, people } = await signingWorkspace('ecdsa'));
  });

  function session(participants: string[], ceremonyId: string): SessionParams {
    return { engine: 'ecdsa', keyId, epoch: 1, participants, t: 2, n: 3, ceremonyId, rosterDigest: state.rosterDigest };
  }

  async function start(node: SigningNode, s: SessionParams): Promise<Envelope[]> {
    const signers = s.participants.map((p) => custodianOf[p]!);
    const request: SignRequest = { v: 1, keyId, epoch: 1, messageDigest: sha256Hex(digest), signers, sessionId: sessionIdOf(s) };
    const c = custodianOf[node.id]!;
    const share = await sealForNode(member(state.requireRoster(), node.id, 'node').recipient, shards[c]!.share);
    return signStart(node, { session: s, request: signRequest(c, people[c]!.signing, request), share, message: digest.toString('hex') });
  }

  /** Runs the nodes round by round; `tamper` may rewrite any envelope on its way. */
  async function run(nodes: SigningNode[], s: SessionParams, tamper: (env: Envelope) => Promise<Envelope> = async (e) => e): Promise<Record<string, unknown>> {
    const sessionId = sessionIdOf(s);
    let outgoing: Envelope[] = [];
    for (const n of nodes) outgoing.push(...(await start(n, s)));
    const out: Record<string, unknown> = {};
    while (Object.keys(out).length < nodes.length) {
      const inbox = new Map<string, Envelope[]>(nodes.map((n) => [n.id, []]));
      for (const env of outgoing) for (const id of env.to === BROADCAST ? nodes.map((n) => n.id).filter((x) => x !== env.from) : [env.to]) inbox.get(id)!.push(await tamper(env));
      outgoing = [];
      for (const n of nodes.filter((x) => !(x.id in out))) {
        const reply = await n.receive(sessionId, inbox.get(n.id)!);
        outgoing.push(...reply.envelopes);
        if (reply.done) out[n.id] = reply.output;
      }
    }
    return out;
  }

  /** node-2's round-2 multiplication to node-1 with Γ_u moved off R_2: authenticated, only wrong. */
  async function inconsistent(env: Envelope): Promise<Envelope> {
    if (env.from !== 'node-2' || env.to !== 'node-1' || env.round !== 'sign.2') return env;
    const home = (id: string) => join(tw.root, 'nodes', id);
    const [to, from] = [await loadNodeIdentity(home('node-1'), 'node-1'), await loadNodeIdentity(home('node-2'), 'node-2')];
    const statement = await openDirect(to.ageIdentity, env, from.signing.publicKey);
    const { body, sig: _s, ...header } = statement;
    const b = body as Record<string, string>;
    const moved = { ...b, gammaU: secp256k1.Point.fromHex(b.gammaU!).add(secp256k1.Point.BASE).toHex(true) };
    const payload = await sealDirect(from.signing, header, moved, to.recipient);
    const { sig: _e, ...unsigned } = { ...env, payload };
    return signEnvelope(from.signing, unsigned);
  }

  test('the run aborts blaming node-2; node-1 refuses node-2 from then on, also after a restart, and still signs with node-3', async () => {
    const open = (id: string) => SigningNode.open(ws, id, { state: () => state });
    const [n1, n2] = [await open('node-1'), await open('node-2')];
    await assert.rejects(run([n1, n2], session(['node-1', 'node-2'], 'c-ban-1'), inconsistent), (e: any) => e.code === 'PROTOCOL_INCONSISTENT_MULTIPLICATION' && e.party === 'node-2');
    const claim = await n1.attest(nodeDraft(state));
    assert.deepEqual(claim.holds, []);
    const result = (claim.entry as { payload: string }).payload;
    assert.deepEqual(JSON.parse(Buffer.from(result, 'base64').toString()).predicate.result.bans, [{ keyId, epoch: 1, party: 'node-2', check: 'consistency' }]);

    const restarted = await open('node-1');
    await assert.rejects(start(restarted, session(['node-1', 'node-2'], 'c-ban-2')), (e: any) => e.code === 'SIGNER_BANNED' && e.party === 'node-2');
    assert.deepEqual((await restarted.attest(nodeDraft(state))).holds, [], 'a refused run holds nothing');
    const out = await run([restarted, await open('node-3')], session(['node-1', 'node-3'], 'c-ban-3'));
    const sig = out['node-1'] as string;
    assert.equal(out['node-3'], sig);
    assert.ok(secp256k1.verify(Buffer.from(sig.slice(0, 128), 'hex'), digest, Buffer.from(state.key(keyId).publicKey, 'hex'), { prehash: false }));
  });
});
