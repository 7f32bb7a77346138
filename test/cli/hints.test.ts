import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { KeyriteError } from '../../src/base/errors.js';
import { CliError, commandLineOf, hintFor, type CommandLine } from '../../src/cli/hints.js';
import { buildProgram } from '../../src/cli/main.js';
import { ROOT } from '../support/cli.js';

// The CLI's hints (src/cli/hints.ts): a lower layer says what is wrong, the CLI adds which
// flag to try, and only where the command that failed has that flag to give.

function commandAt(path: string): Command {
  let cmd: Command = buildProgram();
  for (const name of path.split(' ')) cmd = cmd.commands.find((c) => c.name() === name)!;
  return cmd;
}

/** The command line of `path`, as if the operator had given `gave`. */
function lineOf(path: string, gave: Record<string, string> = {}): CommandLine {
  const cmd = commandAt(path);
  for (const [key, value] of Object.entries(gave)) cmd.setOptionValueWithSource(key, value, 'cli');
  return commandLineOf(cmd);
}

test('a command line names the command, the flags it takes and the flags given', () => {
  const at = lineOf('recover custodian', { witness: 'wit' });
  assert.equal(at.path, 'recover custodian');
  assert.ok(at.takes.has('--approvers') && at.takes.has('--witness'));
  assert.deepEqual([...at.gave], ['--witness']);
});

test('a lower layer\'s refusal gets its code\'s hint, naming the flag', () => {
  assert.match(hintFor(new KeyriteError('NO_WORKSPACE', 'no keyrite workspace at /x'), lineOf('key list'))!, /--workspace DIR/);
  assert.match(hintFor(new KeyriteError('QUORUM_NOT_MET', '1 approver(s) named'), lineOf('recover custodian'))!, /--approvers A,B/);
  assert.match(hintFor(new KeyriteError('USAGE', 'the listen address must be HOST:PORT'), lineOf('node serve'))!, /--listen/);
  assert.match(hintFor(new KeyriteError('APPROVAL_EXPIRED', 'bob\'s approval comes after the request expired'), lineOf('approve'))!, /new request/);
  assert.equal(hintFor(new KeyriteError('APPROVAL_EXPIRED', 'the act comes after the request expired'), lineOf('recover custodian')), undefined);
  assert.match(hintFor(new KeyriteError('TRANSCRIPT_DAMAGED', 'transcripts/0019-sign.jsonl:10: not canonical'), lineOf('sign'))!, /audit verify .*--checkpoint D --receipt FILE/);
});

test('a hint is given only where the command that failed can use it', () => {
  const missing = new KeyriteError('MISSING_INPUT', '2 witnesses are enrolled');
  assert.match(hintFor(missing, lineOf('keygen'))!, /--witness NAME/);
  assert.equal(hintFor(missing, lineOf('keygen', { witness: 'wit' })), undefined, 'the witness was named already');
  assert.equal(hintFor(missing, lineOf('guardian check')), undefined, 'guardian check takes no --witness');
  assert.equal(hintFor(new KeyriteError('WRONG_NODE', 'node-1 answered for node-2'), lineOf('sign')), undefined, 'in-process nodes have no --nodes to check');
  assert.equal(hintFor(new KeyriteError('USAGE', 'a signer is named twice'), lineOf('sign')), undefined);
  assert.equal(hintFor(new KeyriteError('NO_WORKSPACE', 'x'), undefined), undefined, 'no command ran');
});

test('the CLI\'s own errors name their flag in the message, and take no hint', () => {
  const own = new CliError('MISSING_INPUT', 'no passphrase for gen: pass --passphrase-file gen=PATH');
  assert.equal(own.exit, 2);
  assert.equal(hintFor(own, lineOf('keygen')), undefined);
});

test('commands import the context, never main.ts, so the CLI has no import cycle', () => {
  const dir = join(ROOT, 'src', 'cli', 'commands');
  for (const file of readdirSync(dir)) {
    const text = readFileSync(join(dir, file), 'utf8');
    assert.doesNotMatch(text, /from '\.\.\/main\.js'/, `${file} imports main.ts`);
  }
});

/** Every .ts file under `dir`, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('the layers below the CLI name no CLI flags and no keyrite commands in their strings (docs/ARCHITECTURE.md §4)', () => {
  const src = join(ROOT, 'src');
  const named: string[] = [];
  for (const file of sources(src).filter((f) => !f.startsWith(join(src, 'cli')))) {
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (/^\s*(\/\/|\*|\/\*)/.test(line)) return;
      for (const m of line.matchAll(/(['"`])((?:\\.|(?!\1).)*)\1/g)) {
        if (/(^|[\s(])--[a-z$]|"keyrite [a-z]/.test(m[2]!)) named.push(`${file.slice(src.length + 1)}:${i + 1}: ${m[0]}`);
      }
    });
  }
  assert.deepEqual(named, [], 'say what is wrong there, and give the flag or command as a hint in src/cli/hints.ts');
});
