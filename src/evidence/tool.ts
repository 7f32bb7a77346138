import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256Hex } from '../base/canonical.js';

// Which keyrite wrote an entry: the package version and a digest of the code that ran (every
// .js/.ts file under the source or build root, by relative path), so an auditor can tell
// transcripts written by different builds apart.

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

let cached: Tool | undefined;

export function toolInfo(): Tool {
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
