import { randomBytes } from 'node:crypto';
import { nodesArg, serve, type Served } from '../test/support/serve.js';
import { authenticatedDkg, authenticatedSign } from './engine.js';
import { perSecond, QUICK, row, timed, type Row } from './table.js';
import { benchWorkspace, keyriteSync, signArgs } from './workspace.js';

// The node server: three real `keyrite node serve` processes on 127.0.0.1, and signing runs on
// different keys through `keyrite sign --nodes` (each run: shards imported just in time over
// HTTP, the run, attestations, nodes emptied), one after another — a ceremony holds the
// workspace lock, so one operator's runs do not overlap. Beside the engine's authenticated
// in-memory sign rate. The issue sets no target for it.

export async function rows(): Promise<Row[]> {
  const { tw, keyIds } = await benchWorkspace(QUICK ? 2 : 3);
  const rounds = QUICK ? 1 : 2;
  const servers: Served[] = [];
  try {
    for (const id of ['node-1', 'node-2', 'node-3']) servers.push(await serve(tw.root, id));
    const nodes = ['--nodes', nodesArg(servers)];
    const signAll = () => {
      for (let r = 0; r < rounds; r++) for (const k of keyIds) keyriteSync(tw, signArgs(tw, k, randomBytes(32).toString('hex'), nodes));
    };
    keyriteSync(tw, signArgs(tw, keyIds[0]!, randomBytes(32).toString('hex'), nodes)); // warm-up
    const [took] = await timed(signAll);
    const runs = rounds * keyIds.length;
    const dkg = await authenticatedDkg('ed25519', 2, 3);
    const [engineMs] = await timed(async () => {
      for (let i = 0; i < runs; i++) await authenticatedSign('ed25519', 2, dkg, i);
    });
    return [
      row(`node serve: signing runs/s on ${keyIds.length} keys, ed25519 2-of-3`, perSecond((1000 * runs) / took), { ...perSecond((1000 * runs) / engineMs), what: 'engine sign in memory' }, null, 'higher', `${runs} runs through 3 served nodes over HTTP`),
    ];
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
  }
}
