import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256Hex } from '../base/canonical.js';

// Which keyrite wrote an entry: the package version and a digest of the code that ran (every
// .js/.ts file under the source or build root, by relative path; in the single-file build of
// README "Air-gap install", the sha256 of that file itself, what `sha256sum keyrite.mjs`
// prints), so an auditor can tell transcripts written by different builds apart.

export interface Tool {
  name: 'keyrite';
  version: string;
  digest: string;
}

const codeRoot = dirname(dirname(fileURLToPath(import.meta.url))); // src/ or dist/
/** The directory holding package.json and ceremonies/, from source or from the build. */
export const packageRoot = dirname(codeRoot);

function codeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return codeFiles(p);
    return /\.(js|ts)$/.test(e.name) ? [p] : [];
  });
}

/** What tools/bundle.ts embeds in the single-file build (esbuild `define`): the version and the ceremony scripts, file name → text. */
export interface Embedded {
  version: string;
  scripts: Record<string, string>;
  archive: Record<string, string>;
}
declare const KEYRITE_EMBEDDED: Embedded | undefined;
/** Set only in the single-file build; from src/ or dist/ the package's files are read instead. */
export const embedded: Embedded | undefined = typeof KEYRITE_EMBEDDED === 'undefined' ? undefined : KEYRITE_EMBEDDED;

let cached: Tool | undefined;

export function toolInfo(): Tool {
  if (!cached && embedded) {
    cached = { name: 'keyrite', version: embedded.version, digest: sha256Hex(readFileSync(fileURLToPath(import.meta.url))) };
  }
  if (!cached) {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
    const listing = codeFiles(codeRoot)
      .map((f) => `${relative(codeRoot, f)} ${sha256Hex(readFileSync(f))}\n`)
      .sort()
      .join('');
    cached = { name: 'keyrite', version: pkg.version, digest: sha256Hex(listing) };
  }
  return cached;
}
