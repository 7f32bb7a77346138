import { inputError } from './blame.js';
import { ECDSA_ENGINE_ID, ECDSA_LABEL, ecdsaEngine } from './ecdsa/engine.js';
import { frostEngine } from './frost.js';
import { SUITES } from './suite.js';
import type { AnyEngine, Engine } from './types.js';

const engines = new Map<string, AnyEngine>();

/** What the people choosing an engine must be told about it, if anything (the ecdsa engine is keyrite's own). */
export function engineNotice(id: string): string | undefined {
  return id === ECDSA_ENGINE_ID ? ECDSA_LABEL : undefined;
}

/** The engine for an id read from a key record or share: 'ed25519', 'bip340' or 'ecdsa'. */
export function getEngine(id: 'ed25519' | 'bip340'): Engine;
export function getEngine(id: string): AnyEngine;
export function getEngine(id: string): AnyEngine {
  if (!engines.has(id)) engines.set(id, make(id));
  return engines.get(id)!;
}

function make(id: string): AnyEngine {
  if (id === 'ecdsa') return ecdsaEngine();
  const suite = SUITES[id];
  if (!suite) throw inputError('UNKNOWN_ENGINE', `unknown engine ${JSON.stringify(id)}; known: ${[...Object.keys(SUITES), 'ecdsa'].join(', ')}`);
  return frostEngine(suite);
}
