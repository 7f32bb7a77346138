import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { makeWorkspace, ok, refused } from '../support/workspace.js';

// identity show recomputes the fingerprint from the keys it shows: a public identity file whose
// written fingerprint, or whose recipient, was changed is refused, never shown as genuine.

test('identity show --file refuses a file whose fingerprint does not match its keys', async () => {
  const w = await makeWorkspace({ setup: false });
  const file = w.pubFile('g1');
  const genuine = ok(await w.kr(['identity', 'show', '--file', file, '--json']));
  const pub = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(genuine.identity.fingerprint, pub.fingerprint);
  const other = JSON.parse(readFileSync(w.pubFile('g2'), 'utf8'));
  // A fingerprint written by hand, and another person's recipient under the old fingerprint.
  for (const forged of [{ ...pub, fingerprint: other.fingerprint }, { ...pub, recipient: other.recipient }]) {
    writeFileSync(file, JSON.stringify(forged));
    refused(await w.kr(['identity', 'show', '--file', file, '--json']), 1, 'BAD_IDENTITY', [file]);
  }
});
