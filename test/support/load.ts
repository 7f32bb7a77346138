import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { loadState } from '../../src/audit/state.js';
import { independentVerify } from '../../src/ceremony/independent-verify.js';
import { unlockIdentity, type Identity } from '../../src/custody/identity.js';
import type { ShardPayload } from '../../src/custody/shard.js';
import { Workspace } from '../../src/fs/workspace.js';
import type { NodeClient } from '../../src/node/client.js';
import { HttpNode } from '../../src/node/http-client.js';
import type { CustodyState } from '../../src/state/fold.js';
import { CUSTODIANS, keygen, lifecycleWorkspace, nodeShareFiles, readShard, shardFile } from './lifecycle.js';
import { driveSign } from './node.js';
import { serve, type Served } from './serve.js';
import type { TestWorkspace } from './workspace.js';

// Three real `keyrite node serve` processes on 127.0.0.1 and `keys` ed25519 keys exported to the
// custodians, with alice's and bob's shards opened: whole signing runs driven through the
// HttpNode client (not the CLI, whose workspace lock would serialise them). Shared by the load
// test (test/node/load.test.ts) and the bench's load rows (bench/load.ts).

export interface LoadRig {
  tw: TestWorkspace;
  servers: Served[];
  nodes: Record<string, NodeClient>;
  people: Record<string, Identity>;
  keyIds: string[];
  /** A whole run on `keyId`, a fresh message each time; the signature is checked with an independent verifier. */
  signRun(keyId: string, label: string): Promise<void>;
  /** Asserts no node holds a share and no share file is left on the nodes. */
  holdsNothing(): Promise<void>;
  stop(): void;
}

export async function loadRig(keys: number): Promise<LoadRig> {
  const tw = await lifecycleWorkspace();
  const shards = new Map<string, ShardPayload[]>();
  for (let i = 0; i < keys; i++) {
    const keyId = (await keygen(tw, 'ed25519')).keyId as string;
    shards.set(keyId, await Promise.all(['alice', 'bob'].map((c) => readShard(tw, c, shardFile(tw, c, keyId)))));
  }
  const people: Record<string, Identity> = {};
  for (const c of [...CUSTODIANS, 'generator']) people[c] = await unlockIdentity(readFileSync(tw.identityFile(c)), tw.passphrases[c]!, c);
  const servers: Served[] = [];
  for (const n of ['node-1', 'node-2', 'node-3']) servers.push(await serve(tw.root, n));
  const nodes: Record<string, NodeClient> = Object.fromEntries(servers.map((s, i) => [`node-${i + 1}`, new HttpNode(`node-${i + 1}`, s.url, people.generator!)]));
  const state: CustodyState = await loadState(new Workspace(tw.root));
  let message = 0;
  return {
    tw,
    servers,
    nodes,
    people,
    keyIds: [...shards.keys()],
    async signRun(keyId, label) {
      const m = Buffer.from(`load ${label} ${message++}`);
      const sig = await driveSign(state, nodes, shards.get(keyId)!, people, `9999-load-${label}-${message}`, m);
      assert.ok(independentVerify('ed25519', state.key(keyId).publicKey, m, sig), `${label}: the signature on ${keyId} verifies`);
    },
    async holdsNothing() {
      for (const n of Object.values(nodes)) assert.deepEqual(await n.holdings(), [], `${n.id} holds nothing after the runs`);
      assert.deepEqual(nodeShareFiles(tw), []);
    },
    stop() {
      for (const s of servers) s.child.kill('SIGTERM');
    },
  };
}

export async function post(url: string, method: string, body: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}/rpc/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

/** A body larger than `start` takes, announced in Content-Length: the node's status line (it answers before reading the body). */
export function oversize(port: number): Promise<string> {
  return new Promise((done) => {
    let answer = '';
    const s = connect(port, '127.0.0.1', () => {
      s.write(`POST /rpc/start HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${4 * 1024 * 1024}\r\n\r\n`);
      s.write(Buffer.alloc(64 * 1024, 0x20));
    });
    s.on('error', () => undefined);
    s.on('data', (d) => (answer += d));
    s.on('close', () => done(answer.split('\r\n')[0] ?? ''));
  });
}

/**
 * Deeply nested and oversize requests at `url`, one at a time, until `stop` resolves: the answers
 * seen (error codes and status lines). One at a time, so that with a run's own calls fewer than
 * the server's body slots are in progress.
 */
export async function abuseUntil(url: string, stop: Promise<unknown>): Promise<Set<string>> {
  const port = Number(new URL(url).port);
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  const answers = new Set<string>();
  let abusing = true;
  void stop.finally(() => (abusing = false)).catch(() => undefined);
  while (abusing) {
    answers.add((await post(url, 'receive', deep)).json?.error?.code);
    answers.add(await oversize(port));
  }
  return answers;
}
