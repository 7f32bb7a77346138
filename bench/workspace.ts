import { rmSync } from 'node:fs';
import { everyone, keygen, lifecycleWorkspace } from '../test/support/lifecycle.js';
import { BIN } from '../test/support/cli.js';
import { FAST, type TestWorkspace } from '../test/support/workspace.js';
import { runChild } from './table.js';

// One real workspace for the rows that run the CLI (cold start, JIT sign, the node server): the
// lifecycle tests' workspace (custodians alice, bob, carol; nodes node-1..3; the fast KDF, so
// passphrase files cost nothing), with `keys` ed25519 keys made by the real `keygen`, exported
// to the custodians and deleted from the nodes. Built once per bench run.

export interface BenchWorkspace {
  tw: TestWorkspace;
  keyIds: string[];
}

let built: Promise<BenchWorkspace> | undefined;

export function benchWorkspace(keys: number): Promise<BenchWorkspace> {
  built ??= (async () => {
    const tw = await lifecycleWorkspace();
    const keyIds: string[] = [];
    for (let i = 0; i < keys; i++) keyIds.push((await keygen(tw, 'ed25519')).keyId);
    return { tw, keyIds };
  })();
  return built;
}

/** keyrite on the bench workspace as a plain child process (CI set, no TTY), waited for. */
export function keyriteSync(tw: TestWorkspace, args: string[]): string {
  return runChild(process.execPath, [BIN, '--workspace', tw.root, FAST, '--yes', ...args], { env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
}

/** `sign` of a fresh 32-byte message by alice and bob, with everyone's passphrase file. */
export function signArgs(tw: TestWorkspace, keyId: string, message: string, extra: string[] = []): string[] {
  return ['sign', '--json', '--key', keyId, '--signer', 'alice', '--signer', 'bob', '--message-hex', message, ...extra, ...everyone(tw)];
}

/** Removes the bench workspace, if one was built. */
export async function disposeBenchWorkspace(): Promise<void> {
  if (built) rmSync((await built).tw.base, { recursive: true, force: true });
}
