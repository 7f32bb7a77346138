import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignRules } from '../../src/audit/sign-rules.js';
import type { KeyRecord } from '../../src/state/key-record.js';

// The verifier's sign rules (src/audit/sign-rules.ts): after a refresh or reshare, a signature
// recorded at the older epoch is refused, whatever else backs it.

test('a sign.result at an epoch older than the key\'s is refused', () => {
  const record = { keyId: 'k0123456789abcdef', epoch: 2, status: 'active', threshold: 2, parties: [] } as unknown as KeyRecord;
  const rules = new SignRules((k) => (k === record.keyId ? record : undefined));
  const intent = { keyId: record.keyId, epoch: 1, messageDigest: 'aa', signers: ['alice', 'bob'], sessionId: 'ss', nodes: ['node-1', 'node-2'] };
  assert.equal(rules.intended(intent), null);
  assert.match(rules.result(intent, { signature: '00' }) ?? '', /at epoch 1, but the key is at epoch 2: shares of an older epoch never sign/);
});
