import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, keyrite, passphraseFile, snapshot, tempDir } from '../support/cli.ts';
import { acquireLock } from '../../src/fs/lock.ts';
import type { KeyriteError } from '../../src/base/errors.ts';

// The command contract of docs/ARCHITECTURE.md §7 where it is easiest to break: usage errors, confirmations
// without a terminal, what an error may carry to stdout, and the workspace lock.

test('a command group without its subcommand is a usage error, in one JSON object', async () => {
  for (const args of [['--json'], ['identity', '--json'], ['audit', '--json']]) {
    const r = await keyrite(args);
    assert.equal(r.code, 2, `keyrite ${args.join(' ')}`);
    assert.equal(r.json?.ok, false, r.stdout);
    assert.equal(r.json.error.code, 'USAGE');
    assert.equal(r.stdout.trim().split('\n').length, 1);
  }
});

test('without a terminal and without --yes, init asks nothing and writes nothing', async () => {
  const dir = tempDir();
  const ws = join(dir, 'ws');
  const pass = passphraseFile(dir, 'generator');
  const r = await keyrite(['--workspace', ws, '--insecure-fast-kdf', '--passphrase-file', `generator=${pass}`, 'init', '--json']);
  assert.equal(r.code, 2);
  assert.equal(r.json.error.code, 'NOT_CONFIRMED');
  assert.ok(!existsSync(ws) || readdirSync(ws).length === 0, 'init left files behind');
});

test('without --yes, identity new leaves neither an identity file nor an enrolment', async () => {
  const dir = tempDir();
  const ws = join(dir, 'ws');
  const gen = passphraseFile(dir, 'generator');
  const init = await keyrite(['--workspace', ws, '--insecure-fast-kdf', '--yes', '--passphrase-file', `generator=${gen}`, 'init']);
  assert.equal(init.code, 0, init.stderr);
  const before = snapshot(ws);
  const alice = passphraseFile(dir, 'alice');
  const r = await keyrite(['--workspace', ws, '--insecure-fast-kdf', '--passphrase-file', `alice=${alice}`, 'identity', 'new', '--name', 'alice', '--role', 'custodian', '--json']);
  assert.equal(r.code, 2);
  assert.equal(r.json.error.code, 'NOT_CONFIRMED');
  assert.deepEqual(snapshot(ws), before);
});

test('error details reach --json output only when they are meant for scripts', () => {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', `
    const { printError } = await import(${JSON.stringify(join(ROOT, 'src/cli/output.ts'))});
    const { KeyriteError } = await import(${JSON.stringify(join(ROOT, 'src/base/errors.ts'))});
    printError(new KeyriteError('PROTOCOL_INVALID_SHARE', 'dealer node-2 sent an invalid share',
      { party: 'node-2', details: { evidence: { share: 'SECRET-SUB-SHARE' }, ok: true } }), true);
  `], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const out = JSON.parse(child.stdout);
  assert.equal(out.ok, false);
  assert.equal(out.party, 'node-2');
  assert.ok(!child.stdout.includes('SECRET-SUB-SHARE'), child.stdout);
});

test('the workspace lock: a live holder refuses, a dead holder is taken over', async () => {
  const ws = tempDir();
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    writeFileSync(join(ws, '.lock'), `${sleeper.pid} keygen\n`);
    assert.throws(() => acquireLock(ws, 'test'), (e: KeyriteError) => e.code === 'WORKSPACE_BUSY' && /keygen/.test(e.message));
  } finally {
    sleeper.kill();
  }
  const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
  writeFileSync(join(ws, '.lock'), `${dead} crashed\n`);
  const release = acquireLock(ws, 'test');
  assert.throws(() => acquireLock(ws, 'again'), (e: KeyriteError) => e.code === 'WORKSPACE_BUSY');
  release();
  assert.deepEqual(readdirSync(ws).filter((f) => f.startsWith('.lock')), [], 'the lock and any stale copy are gone');
});

test('help, help COMMAND and a bare keyrite print help and succeed', async () => {
  for (const args of [[], ['help'], ['help', 'refresh'], ['--help']]) {
    const r = await keyrite(args);
    assert.equal(r.code, 0, `keyrite ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout + r.stderr, /Usage: keyrite/);
  }
});

test('--version --json is one JSON object with the version and the digest every transcript entry records as its tool', async () => {
  const r = await keyrite(['--version', '--json']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim().split('\n').length, 1);
  const dir = tempDir();
  const ws = join(dir, 'ws');
  const init = await keyrite(['--workspace', ws, '--insecure-fast-kdf', '--yes', '--passphrase-file', `generator=${passphraseFile(dir, 'generator')}`, 'init']);
  assert.equal(init.code, 0, init.stderr);
  const first = readFileSync(join(ws, 'transcripts', readdirSync(join(ws, 'transcripts')).sort()[0]!), 'utf8').split('\n')[0]!;
  const statement = JSON.parse(Buffer.from(JSON.parse(first).payload, 'base64').toString('utf8'));
  const { tool } = statement.predicate;
  assert.deepEqual([r.json.name, r.json.version, r.json.digest], [tool.name, tool.version, tool.digest]);
});
