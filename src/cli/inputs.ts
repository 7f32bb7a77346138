import { readFileSync } from 'node:fs';
import { KeyriteError, usageError } from '../base/errors.js';

// Per-person inputs arrive as repeated NAME=PATH options (--identity alice=/media/a/id.age).
// Secrets themselves never come from argv: only paths to them.

export type NamedPaths = Map<string, string>;

export function collectNamed(value: string, previous: NamedPaths | undefined): NamedPaths {
  const map = previous ?? new Map<string, string>();
  const eq = value.indexOf('=');
  if (eq < 1 || eq === value.length - 1) throw usageError(`expected NAME=PATH, got "${value}"`);
  const name = value.slice(0, eq);
  if (map.has(name)) throw usageError(`${name} is given twice`);
  map.set(name, value.slice(eq + 1));
  return map;
}

export function collectList(value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw usageError(`expected a comma-separated list, got "${value}"`);
  if (new Set(items).size !== items.length) throw usageError(`"${value}" names someone twice`);
  return items;
}

export function parseCount(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n)) throw usageError(`expected a whole number, got "${value}"`);
  return n;
}

/** First line of a passphrase file; a trailing newline is not part of the passphrase. */
export function readPassphraseFile(path: string, name: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KeyriteError('NOT_FOUND', `cannot read the passphrase file for ${name} (${path}): ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line.length === 0) throw new KeyriteError('BAD_PASSPHRASE', `the passphrase file for ${name} (${path}) is empty`);
  return line;
}

export const MIN_PASSPHRASE = 12;

export function checkNewPassphrase(p: string, name: string): string {
  if (p.length < MIN_PASSPHRASE) {
    throw new KeyriteError('WEAK_PASSPHRASE', `the new passphrase for ${name} is too short: use at least ${MIN_PASSPHRASE} characters (four or more random words work well)`);
  }
  return p;
}
