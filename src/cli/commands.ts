import type { Command } from 'commander';
import { register as custodian } from './custodian.js';
import { register as demo } from './demo.js';
import { register as guardian } from './guardian.js';
import { register as identity } from './identity.js';
import { register as init } from './init.js';
import { register as recover } from './recover.js';

export function registerCommands(program: Command): void {
  for (const r of [init, identity, custodian, guardian, recover, demo]) r(program);
}
