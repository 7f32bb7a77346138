import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { loadState } from '../../src/audit/state.js';
import { Workspace } from '../../src/fs/workspace.js';
import { SigningNode } from '../../src/node/node.js';
import { loadFixtureKeys, readChain, writeChain, type ChainEntry } from '../../fixtures/chain-tools.js';
import { CUSTODIANS, keygen, nodeShareFiles, lifecycleWorkspace, readShard, shardFile, steps } from '../support/lifecycle.js';
import { nodeDraft } from '../support/node.js';
import { ok, readJsonFile, refused, watch, type TestWorkspace } from '../support/workspace.js';

// Custodian receipts before deletion (README, "--delete-after-export"; CEREMONY.md, keygen and
// export): a node deletes its copy only after its custodian opened the shard with their own
// identity and signed export.receipt for it. A custodian who is not here leaves their node
// holding its share, the command says which and what to do next, and a later export finishes
// the job. A crafted history without the receipt, or with a receipt from the wrong custodian or
// for another share, does not verify.

const partiesHeld = (tw: TestWorkspace): string[] => nodeShareFiles(tw).map((f) => f.split('/').at(-3)!).sort();

describe('delete-after-export with one custodian absent', () => {
  let tw: TestWorkspace;
  let k: any;
  before(async () => {
    tw = await lifecycleWorkspace();
    // carol's passphrase is not given: she is not here.
    k = ok(await tw.kr(['keygen', '--json', '--engine', 'ed25519', '--custodians', CUSTODIANS.join(','), '--label', 'absent', '--export', '--delete-after-export',
      ...tw.passArgs(tw.generator, tw.witness, 'alice', 'bob')]));
  });

  test('the present custodians\' nodes delete after their receipts; carol\'s node keeps its share, and the result says why and what next', async () => {
    assert.deepEqual(k.deleted, ['node-1', 'node-2']);
    assert.deepEqual(k.kept, [{ party: 'node-3', node: 'node-3', custodian: 'carol', reason: 'carol was not here to open the shard and sign a receipt for it' }]);
    assert.equal(k.nodesEmpty, false);
    assert.match(k.next, /with carol present, run `keyrite export --key k[0-9a-f]{16} --delete-after-export`/);
    assert.deepEqual(partiesHeld(tw), ['node-3']);
    assert.deepEqual(k.shards.map((s: any) => s.custodian), CUSTODIANS, 'every shard is still written, carol\'s too');
    assert.equal((await readShard(tw, 'carol', shardFile(tw, 'carol', k.keyId))).party, 'node-3');
    const s = steps(tw, k.ceremony);
    assert.deepEqual(s.filter((x) => x.step === 'export.receipt').map((x) => [x.actor, x.params.party]), [['alice', 'node-1'], ['bob', 'node-2']]);
    assert.deepEqual(s.filter((x) => x.step === 'node.delete').map((x) => x.actor), ['node-1', 'node-2']);
    assert.deepEqual(s.filter((x) => x.step === 'node.attest').map((x) => x.actor), ['node-1', 'node-2']);
    const result = s.find((x) => x.step === 'export.result')!.result;
    assert.deepEqual([result.deleted, result.kept, result.nodesEmpty], [k.deleted, k.kept, false]);
    ok(await tw.kr(['audit', 'verify', '--json']), 'the partial export verifies');
  });

  test('the node itself refuses to delete a share with no receipt in the history it verified', async () => {
    const ws = new Workspace(tw.root);
    const state = await loadState(ws);
    const node = await SigningNode.open(ws, 'node-3', { state: () => state });
    await assert.rejects(node.deleteShare({ keyId: k.keyId, epoch: 1 }, nodeDraft(state)), (e: any) => e.code === 'NOT_PERMITTED' && /no receipt from carol/.test(e.message) && e.message.includes('node-3'));
    assert.deepEqual(partiesHeld(tw), ['node-3']);
  });

  test('without deletion, an export of the parties already exported is refused', async () => {
    const unchanged = watch(tw.root);
    refused(await tw.kr(['export', '--json', '--key', k.keyId, ...tw.passArgs(tw.generator)]), 1, 'NOT_PERMITTED', ['node-3', 'carol']);
    unchanged();
  });

  test('carol bringing another custodian\'s shard is refused, and node-3 keeps its share', async () => {
    const unchanged = watch(tw.root);
    const r = await tw.kr(['export', '--json', '--key', k.keyId, '--delete-after-export', '--shard', `carol=${shardFile(tw, 'alice', k.keyId)}`, ...tw.passArgs(tw.generator, tw.witness, 'carol')]);
    refused(r, 1, 'NOT_FOR_THIS_IDENTITY', ['carol']);
    unchanged();
    assert.deepEqual(partiesHeld(tw), ['node-3']);
  });

  test('a later export with carol present takes her receipt and deletes node-3\'s copy, exporting nothing again', async () => {
    const r = ok(await tw.kr(['export', '--json', '--key', k.keyId, '--delete-after-export', ...tw.passArgs(tw.generator, tw.witness, 'carol')]));
    assert.deepEqual([r.deleted, r.kept, r.nodesEmpty], [['node-3'], [], true]);
    assert.deepEqual(nodeShareFiles(tw), []);
    const s = steps(tw, r.ceremony).map((x) => x.step).filter((x) => x !== 'checklist.confirm');
    assert.deepEqual(s, ['ceremony.start', 'export.intent', 'export.receipt', 'node.delete', 'node.attest', 'export.result', 'ceremony.seal']);
    refused(await tw.kr(['export', '--json', '--key', k.keyId, '--delete-after-export', ...tw.passArgs(tw.generator, tw.witness)]), 1, 'NOT_HELD', ['node-1']);
    ok(await tw.kr(['audit', 'verify', '--json']));
  });

  test('the text output names the nodes deleted, the one kept and the next step', async () => {
    const t2 = await lifecycleWorkspace();
    const r = await t2.kr(['keygen', '--engine', 'bip340', '--custodians', CUSTODIANS.join(','), '--label', 'text', '--export', '--delete-after-export', ...t2.passArgs(t2.generator, t2.witness, 'bob', 'carol')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Deleted after their custodians' receipts, and attested empty: node-2, node-3\./);
    assert.match(r.stdout, /node-1 keeps its share of party node-1: alice was not here/);
    assert.match(r.stdout, /Next: with alice present, run `keyrite export --key k[0-9a-f]{16} --delete-after-export`/);
  });
});

describe('a crafted history around the receipts does not verify', () => {
  let tw: TestWorkspace;
  let k: any;
  let keys: Map<string, any>;
  before(async () => {
    tw = await lifecycleWorkspace();
    k = await keygen(tw, 'ed25519');
    keys = await loadFixtureKeys(tw.root, tw.secretsDir);
  });

  /** A copy of the workspace with its chain rewritten by `edit` (re-linked and re-signed by the real keys). */
  async function crafted(edit: (entries: ChainEntry[]) => ChainEntry[]): Promise<TestWorkspace> {
    const copy = tw.clone();
    writeChain(copy.root, edit(readChain(copy.root, keys)));
    return copy;
  }
  const isReceipt = (e: ChainEntry, party?: string) => e.ceremony === k.ceremony && e.statement.predicate.step === 'export.receipt' && (!party || e.statement.predicate.params.party === party);

  test('the control: re-linking the chain unchanged verifies', async () => {
    ok(await (await crafted((e) => e)).kr(['audit', 'verify', '--json']));
  });

  test('a receipt removed before its node.delete: a policy failure naming the node', async () => {
    const copy = await crafted((entries) => entries.filter((e) => !isReceipt(e, 'node-2')));
    const r = refused(await copy.kr(['audit', 'verify', '--json']), 1, 'VERIFY_FAILED');
    assert.ok(r.failures.some((f: any) => f.kind === 'policy' && /node-2 deleted its share of key .* before any receipt from its custodian/.test(f.reason)), JSON.stringify(r.failures));
  });

  test('a receipt signed by another custodian: a transition failure, and nothing decides from it', async () => {
    const bob = [...keys.values()].find((id) => id.name === 'bob');
    const copy = await crafted((entries) => entries.map((e) => {
      if (!isReceipt(e, 'node-1')) return e;
      const statement = structuredClone(e.statement);
      statement.predicate.actor = 'bob';
      return { ...e, statement, signers: [bob] };
    }));
    const r = refused(await copy.kr(['audit', 'verify', '--json']), 1, 'VERIFY_FAILED');
    assert.ok(r.failures.some((f: any) => f.kind === 'transition' && /signed by bob for custodian alice, but party node-1 is assigned to alice/.test(f.reason)), JSON.stringify(r.failures));
    refused(await copy.kr(['key', 'list', '--json']), 1, 'TRANSCRIPT_DAMAGED', ['signed by bob']);
  });

  test('a receipt for a share that does not match the party\'s verifying share: a transition failure', async () => {
    const other = readJsonFile(join(tw.root, 'keys', `${k.keyId}.json`)).publicPackage.verifyingShares['node-2'];
    const copy = await crafted((entries) => entries.map((e) => {
      if (!isReceipt(e, 'node-1')) return e;
      const statement = structuredClone(e.statement);
      statement.predicate.result.verifyingShare = other;
      return { ...e, statement };
    }));
    const r = refused(await copy.kr(['audit', 'verify', '--json']), 1, 'VERIFY_FAILED');
    assert.ok(r.failures.some((f: any) => f.kind === 'transition' && /not party node-1's/.test(f.reason)), JSON.stringify(r.failures));
  });

  test('a receipt naming another shard than the one the node exported: a transition failure', async () => {
    const copy = await crafted((entries) => entries.map((e) => {
      if (!isReceipt(e, 'node-3')) return e;
      const statement = structuredClone(e.statement);
      statement.predicate.params.shard = k.shards[0].sha256;
      return { ...e, statement };
    }));
    const r = refused(await copy.kr(['audit', 'verify', '--json']), 1, 'VERIFY_FAILED');
    assert.ok(r.failures.some((f: any) => f.kind === 'transition' && /carol acknowledges shard .* but node-3 exported/.test(f.reason)), JSON.stringify(r.failures));
  });
});
