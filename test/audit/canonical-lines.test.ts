import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonical } from '../../src/base/canonical.js';
import { signEnvelope } from '../../src/base/dsse.js';
import { copyGolden, GOLDEN, PEOPLE } from '../../fixtures/golden.js';
import { loadFixtureKeys, readLines, writeLines } from '../../fixtures/chain-tools.js';
import { keyrite, snapshot } from '../support/cli.js';
import { assertUnchanged, refused } from '../support/workspace.js';

// Finding 15 of the security review, through the real CLI on the golden workspace: a line
// re-encoded so that its signatures still verify — whitespace, reordered keys, lenient base64,
// duplicate keys in the envelope or in the (re-signed) payload — is not the line the product
// wrote, and would give the same history another head. Each fails `audit verify` with kind
// 'form' at that line, and any ceremony refuses to start from it.

const CEREMONY = '0013-sign';
const FILE = `transcripts/${CEREMONY}.jsonl`;
const LINE = 3; // an entry in the middle of the ceremony
const keys = await loadFixtureKeys(GOLDEN, PEOPLE);

interface Env {
  payload: string;
  payloadType: string;
  signatures: { keyid: string; sig: string }[];
}

function original(): { line: string; env: Env } {
  const line = readLines(join(GOLDEN, FILE))[LINE - 1]!;
  return { line, env: JSON.parse(line) as Env };
}

/** The same envelope with its payload replaced by `body`, signed afresh by the same keys. */
function resigned(body: string): string {
  const { env } = original();
  return canonical(signEnvelope(Buffer.from(body, 'utf8'), env.signatures.map((s) => ({ keyid: s.keyid, key: keys.get(s.keyid)!.signing }))));
}

/** Flips the unused low bits of the last base64 digit before the padding: the same bytes, another spelling. */
function lenientSig(sig: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const i = sig.replace(/=+$/, '').length - 1;
  const other = alphabet[alphabet.indexOf(sig[i]!) ^ 1]!;
  const spelled = sig.slice(0, i) + other + sig.slice(i + 1);
  assert.deepEqual(Buffer.from(spelled, 'base64'), Buffer.from(sig, 'base64'), 'the lenient spelling decodes to the same signature');
  return spelled;
}

const REENCODINGS: [string, () => string][] = [
  ['extra whitespace', () => original().line.replace('","payloadType":', '", "payloadType": ')],
  ['reordered keys', () => {
    const { env } = original();
    return JSON.stringify({ signatures: env.signatures, payloadType: env.payloadType, payload: env.payload });
  }],
  ['a duplicate key in the envelope', () => original().line.replace('{"payload":', '{"payload":"AAAA","payload":')],
  ['lenient base64 in a signature (non-zero padding bits)', () => {
    const { env } = original();
    return canonical({ ...env, signatures: [{ ...env.signatures[0]!, sig: lenientSig(env.signatures[0]!.sig) }, ...env.signatures.slice(1)] });
  }],
  ['lenient base64 in the payload (no padding)', () => {
    const { env } = original();
    const unpadded = env.payload.replace(/=+$/, '');
    assert.notEqual(unpadded, env.payload, 'the payload is padded');
    return canonical({ ...env, payload: unpadded });
  }],
  ['a duplicate key in the payload, re-signed', () => {
    const body = Buffer.from(original().env.payload, 'base64').toString('utf8');
    return resigned(body.replace('{"_type":', '{"_type":"https://example.com/forged","_type":'));
  }],
  ['whitespace in the payload, re-signed', () => {
    const body = Buffer.from(original().env.payload, 'base64').toString('utf8');
    return resigned(JSON.stringify(JSON.parse(body), null, 1));
  }],
];

for (const [what, reencode] of REENCODINGS) {
  test(`a re-encoded line (${what}) fails audit verify as 'form', and no ceremony starts from it`, async () => {
    const root = copyGolden();
    const path = join(root, FILE);
    const lines = readLines(path);
    const line = reencode();
    assert.notEqual(line, lines[LINE - 1], 'the re-encoding changed the bytes');
    assert.doesNotThrow(() => JSON.parse(line));
    lines[LINE - 1] = line;
    writeLines(path, lines);

    const r = await keyrite(['--workspace', root, '--json', 'audit', 'verify']);
    const failures = refused(r, 1, 'VERIFY_FAILED').failures as { file: string; line: number; kind: string; reason: string }[];
    assert.ok(failures.some((f) => f.file === FILE && f.line === LINE && f.kind === 'form' && /canonical/.test(f.reason)), JSON.stringify(failures, null, 1));

    const before = snapshot(root);
    const next = await keyrite(['--workspace', root, '--json', '--yes', 'guardian', 'check', '--guardian', 'gal-1', '--custodian', 'alice', '--passphrase-file', `gal-1=${join(PEOPLE, 'gal-1.pass')}`]);
    refused(next, 1, 'TRANSCRIPT_DAMAGED', [`${FILE}:${LINE}`, 'canonical']);
    assertUnchanged(before, snapshot(root), 'the workspace');
  });
}

test('the product\'s own lines are canonical, so the golden workspace is untouched by the rule', () => {
  for (const line of readLines(join(GOLDEN, FILE))) {
    assert.equal(canonical(JSON.parse(line)), line);
    const body = Buffer.from(JSON.parse(line).payload, 'base64').toString('utf8');
    assert.equal(canonical(JSON.parse(body)), body);
  }
  assert.ok(readFileSync(join(GOLDEN, FILE)).length > 0);
});
