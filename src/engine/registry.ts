import { inputError } from './blame.js';
import { frostEngine } from './frost.js';
import { SUITES } from './suite.js';
import type { Engine } from './types.js';

const engines = new Map<string, Engine>();

/** The engine for an id read from a key record or share: 'ed25519' or 'bip340'. */
export function getEngine(id: string): Engine {
  const suite = SUITES[id];
  if (!suite) throw inputError('UNKNOWN_ENGINE', `unknown engine ${JSON.stringify(id)}; known: ${Object.keys(SUITES).join(', ')}`);
  if (!engines.has(id)) engines.set(id, frostEngine(suite));
  return engines.get(id)!;
}
