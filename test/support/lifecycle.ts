import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unlockIdentity } from '../../src/custody/identity.js';
import { openShard, type ShardPayload } from '../../src/custody/shard.js';
import { allFiles } from './cli.js';
import { makeWorkspace, ok, type TestWorkspace } from './workspace.js';

// Workspaces for the lifecycle tests: a sealed roster with custodians alice, bob and carol, a
// witness and the generator, nodes node-1..3; and the on-disk checks that back the nodes' claims.

export const CUSTODIANS = ['alice', 'bob', 'carol'];

export async function lifecycleWorkspace(o: { open?: boolean } = {}): Promise<TestWorkspace> {
  return makeWorkspace({ guardians: { alice: [], bob: [], carol: [] }, m: 3, setup: false, open: o.open });
}

/** Everyone's passphrase file: generator, witness and the custodians. */
export const everyone = (tw: TestWorkspace): string[] => tw.passArgs(tw.generator, tw.witness, ...CUSTODIANS);

export async function keygen(tw: TestWorkspace, engine: string, extra: string[] = ['--export', '--delete-after-export']): Promise<any> {
  return ok(await tw.kr(['keygen', '--json', '--engine', engine, '--custodians', CUSTODIANS.join(','), '--label', `${engine}-test`, ...extra, ...everyone(tw)]), `keygen ${engine}`);
}

export function shardFile(tw: TestWorkspace, custodian: string, keyId: string, epoch = 1): string {
  return join(tw.holdings(custodian), `${custodian}.${keyId}.e${epoch}.shard.age`);
}

/** Opens a custodian's shard in the test process, as the custodian would. */
export async function readShard(tw: TestWorkspace, custodian: string, path: string): Promise<ShardPayload> {
  const id = await unlockIdentity(readFileSync(tw.identityFile(custodian)), tw.passphrases[custodian]!, custodian);
  return openShard(readFileSync(path), id.ageIdentity, path);
}

/**
 * Every file in every node's share store. A node without its store directory is an error, not
 * an empty node: a store moved or renamed must not pass for one that holds nothing.
 */
export function nodeShareFiles(tw: TestWorkspace): string[] {
  const nodes = join(tw.root, 'nodes');
  return readdirSync(nodes).flatMap((n) => {
    const dir = join(nodes, n, 'shares');
    return readdirSync(dir).map((f) => join(dir, f));
  });
}

/** No file under the workspace and no command output holds any of the secrets (hex or raw bytes). */
export function assertNowhere(tw: TestWorkspace, secretsHex: string[]): void {
  assert.ok(secretsHex.length > 0);
  const files = allFiles(tw.root);
  for (const s of secretsHex) {
    const raw = Buffer.from(s, 'hex');
    for (const f of files) {
      assert.ok(!f.bytes.includes(s) && !f.bytes.includes(s.toUpperCase()) && !f.bytes.includes(raw), `${f.path} holds a share secret`);
    }
    for (const r of tw.runs) assert.ok(!r.run.stdout.includes(s) && !r.run.stderr.includes(s), `output of ${r.args.join(' ')} holds a share secret`);
  }
}

/** The steps of a ceremony's transcript, in order: [step, actor, statement]. */
export function steps(tw: TestWorkspace, ceremony: string): { step: string; actor: string; params: any; result: any; signatures: number }[] {
  const text = readFileSync(join(tw.root, 'transcripts', `${ceremony}.jsonl`), 'utf8');
  return text.trim().split('\n').map((line) => {
    const env = JSON.parse(line);
    const s = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
    return { step: s.predicate.step, actor: s.predicate.actor, params: s.predicate.params, result: s.predicate.result, signatures: env.signatures.length };
  });
}
