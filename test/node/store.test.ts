import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadNodeIdentity } from '../../src/node/identity.js';
import { ShareStore } from '../../src/node/store.js';
import { assertNowhere, keygen, lifecycleWorkspace } from '../support/lifecycle.js';

// A node's shares at rest are age ciphertext to the node's own key: opened with the node's
// identity (which only src/node reads) they are the key's shares, and their secrets appear in
// no file of the workspace and in no output.

test('each node holds its share only as ciphertext to itself', async () => {
  const tw = await lifecycleWorkspace();
  const k = await keygen(tw, 'bip340', []);
  const secrets: string[] = [];
  for (const n of ['node-1', 'node-2', 'node-3']) {
    const home = join(tw.root, 'nodes', n);
    const share = await new ShareStore(home, await loadNodeIdentity(home, n)).get({ keyId: k.keyId, epoch: 1 });
    assert.equal(share.party, n);
    secrets.push(share.secret);
  }
  assertNowhere(tw, secrets);
});
