import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { join } from 'node:path';
import { keyrite, passphraseFile, tempDir } from '../support/cli.js';
import { unlockIdentity } from '../../src/custody/identity.js';
import { FAST, ok, readJsonFile } from '../support/workspace.js';

// docs/ARCHITECTURE.md §9: scrypt work factor 18, lowered only by the explicit --insecure-fast-kdf.
// The one test in the foundation suites that runs without the fast KDF.

function scryptStanza(file: string): string[] {
  const lines = readFileSync(file, 'latin1').split('\n');
  assert.equal(lines[0], 'age-encryption.org/v1');
  const stanzas = lines.filter((l) => l.startsWith('-> '));
  assert.equal(stanzas.length, 1, 'a passphrase file has exactly one stanza');
  return stanzas[0]!.split(' ');
}

test('identity new writes work factor 18 unless --insecure-fast-kdf is given', async () => {
  // Enrolment only (no custodial step), so a bare workspace is enough.
  const base = tempDir('keyrite-kdf-');
  const root = join(base, 'ws');
  const g = passphraseFile(base, 'generator');
  const p = passphraseFile(base, 'sam');
  const init = ok(await keyrite(['init', '--workspace', root, FAST, '--yes', '--json', '--passphrase-file', `generator=${g}`]), 'init (fast KDF)');
  const r = ok(await keyrite(['--workspace', root, '--yes', '--json', 'identity', 'new', '--name', 'sam', '--role', 'auditor', '--passphrase-file', `sam=${p}`]), 'identity new (default KDF)');
  const [arrow, kind, salt, logN] = scryptStanza(r.file);
  assert.equal(arrow, '->');
  assert.equal(kind, 'scrypt');
  assert.equal(Buffer.from(salt!, 'base64').length, 16);
  assert.equal(logN, '18');
  const id = await unlockIdentity(readFileSync(r.file), readFileSync(p, 'utf8').trim(), r.file, readJsonFile(join(root, 'identities', 'sam.pub.json')));
  assert.equal(id.name, 'sam');
  // the generator's file, made with --insecure-fast-kdf, says 10
  assert.equal(scryptStanza(init.identityFile)[3], '10');
});
