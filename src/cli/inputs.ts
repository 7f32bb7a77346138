import type { NodeConnector } from '../ceremony/kernel/nodes.js';
import { ENGINE_IDS, type EngineId } from '../engine/types.js';
import { readBytes } from '../fs/workspace.js';
import { CliError, cliUsage } from './hints.js';

// Parsers for the flags' values, so a command's action receives typed options. Per-person
// inputs arrive as repeated NAME=PATH options (--identity alice=/media/a/id.age): secrets
// themselves never come from argv, only paths to them (docs/ARCHITECTURE.md §7).

export type NamedPaths = Map<string, string>;

export function collectNamed(value: string, previous: NamedPaths | undefined): NamedPaths {
  const map = previous ?? new Map<string, string>();
  const eq = value.indexOf('=');
  if (eq < 1 || eq === value.length - 1) throw cliUsage(`expected NAME=PATH, got "${value}"`);
  const name = value.slice(0, eq);
  if (map.has(name)) throw cliUsage(`${name} is given twice`);
  map.set(name, value.slice(eq + 1));
  return map;
}

export function collectList(value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw cliUsage(`expected a comma-separated list, got "${value}"`);
  if (new Set(items).size !== items.length) throw cliUsage(`"${value}" names someone twice`);
  return items;
}

/** A repeatable flag's values, in the order given (`--signer a --signer b`). */
export function collectRepeated(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseCount(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n)) throw cliUsage(`expected a whole number, got "${value}"`);
  return n;
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration such as 30m, 24h or 7d (`--expires`), in milliseconds. */
export function parseDuration(value: string): number {
  const m = /^([1-9][0-9]{0,5})([mhd])$/.exec(value);
  if (!m) throw cliUsage(`expected a duration such as 30m, 24h or 7d, got "${value}"`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export function parseEngine(value: string): EngineId {
  const engine = ENGINE_IDS.find((e) => e === value);
  if (!engine) throw cliUsage(`--engine must be one of ${ENGINE_IDS.join(', ')}; got "${value}"`);
  return engine;
}

export const NODES_HELP = 'reach the nodes over HTTP (node-1=http://127.0.0.1:P1,…) instead of in-process';

/** `--nodes node-1=http://127.0.0.1:P1,node-2=…`: reach the nodes over HTTP instead of in-process. */
export function parseNodes(value: string): NodeConnector {
  const urls = new Map<string, string>();
  for (const item of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const [id, url] = [item.slice(0, eq), item.slice(eq + 1)];
    if (eq < 1 || !/^http:\/\/[^/]+$/.test(url)) throw cliUsage(`--nodes expects NODE=http://HOST:PORT,…; got "${item}"`);
    if (urls.has(id)) throw cliUsage(`--nodes names ${id} twice`);
    urls.set(id, url);
  }
  // The HTTP client loads only when a node is first reached, so parsing the flag stays cheap.
  return async (id, caller, state) => {
    if (!urls.has(id)) throw cliUsage(`--nodes gives no address for ${id}`, 'MISSING_INPUT');
    return (await import('../ceremony/kernel/nodes.js')).overHttp(urls)(id, caller, state);
  };
}

const MAX_PASSPHRASE_FILE = 64 * 1024;

/** First line of a passphrase file; a trailing newline is not part of the passphrase. */
export function readPassphraseFile(path: string, name: string): string {
  const text = readBytes(path, `the passphrase file for ${name}`, MAX_PASSPHRASE_FILE).toString('utf8');
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line.length === 0) throw new CliError('BAD_PASSPHRASE', `the passphrase file for ${name} (${path}) is empty`);
  return line;
}

export const MIN_PASSPHRASE = 12;

export function checkNewPassphrase(p: string, name: string): string {
  if (p.length < MIN_PASSPHRASE) {
    throw new CliError('WEAK_PASSPHRASE', `the new passphrase for ${name} is too short: use at least ${MIN_PASSPHRASE} characters (four or more random words work well)`);
  }
  return p;
}
