import type { Command } from 'commander';
import { register as approve } from './approve.js';
import { register as audit } from './audit.js';
import { register as custodian } from './custodian.js';
import { register as demo } from './demo.js';
import { register as exportCmd } from './export.js';
import { register as guardian } from './guardian.js';
import { register as identity } from './identity.js';
import { register as init } from './init.js';
import { register as key } from './key.js';
import { register as keygen } from './keygen.js';
import { register as node } from './node.js';
import { register as recover } from './recover.js';
import { register as refresh } from './refresh.js';
import { register as repair } from './repair.js';
import { register as reshare } from './reshare.js';
import { register as roster } from './roster.js';
import { register as rotate } from './rotate.js';
import { register as shard } from './shard.js';
import { register as sign } from './sign.js';

// The command registry: one module per command group, each adding its commands to the
// program. main.ts imports this; the commands import context.ts, never main.ts.

// In the order of the lifecycle, as `keyrite --help` lists them.
export function registerCommands(program: Command): void {
  for (const r of [init, identity, roster, keygen, custodian, exportCmd, sign, shard, guardian, approve, rotate, refresh, reshare, repair, recover, key, audit, node, demo]) r(program);
}
