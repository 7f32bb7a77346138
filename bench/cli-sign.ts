import { randomBytes } from 'node:crypto';
import { authenticatedDkg, authenticatedSign } from './engine.js';
import { ms, paired, QUICK, row, type Row } from './table.js';
import { benchWorkspace, keyriteSync, signArgs } from './workspace.js';

// Just-in-time signing end to end through the CLI (a new process: fold, shards opened, nodes
// given their shares, the signing run, attestations, the transcript written with fsync, nodes
// emptied) with the fast KDF, so passphrase work is left out; beside the engine's own
// authenticated 2-of-3 sign in one process. Target (issue 13): ≤ 3×.

const TARGET = 3;

export async function rows(): Promise<Row[]> {
  const runs = QUICK ? 3 : 7;
  const { tw, keyIds } = await benchWorkspace(QUICK ? 2 : 3);
  const dkg = await authenticatedDkg('ed25519', 2, 3);
  let i = 0;
  const cli = () => keyriteSync(tw, signArgs(tw, keyIds[0]!, randomBytes(32).toString('hex')));
  const engine = () => authenticatedSign('ed25519', 2, dkg, i++);
  cli();
  const [k, floor] = await paired(runs, cli, engine);
  return [row('JIT sign via CLI, ed25519 2-of-3, fast KDF', ms(k), { ...ms(floor), what: 'engine sign, in memory, authenticated' }, TARGET, 'lower', `median of ${runs}; the CLI figure is a whole process, cold start included`)];
}
