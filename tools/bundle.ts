// `npm run bundle`: the single-file build of README "Air-gap install". esbuild bundles the CLI
// and its dependencies into dist/keyrite.mjs (ESM, node shebang), which runs with nothing but
// Node ≥ 20.19: no node_modules, no package.json, no ceremonies/ beside it. The ceremony scripts
// and their archive (read from the package otherwise, src/evidence/script.ts) and the version are
// embedded through src/evidence/tool.ts's KEYRITE_EMBEDDED; the build's tool digest is then the
// sha256 of the file itself. Prints the file and that digest.
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ARCHIVE_DIR, SCRIPTS_DIR } from '../src/evidence/script.js';
import { packageRoot, type Embedded } from '../src/evidence/tool.js';

export const BUNDLE = join(packageRoot, 'dist', 'keyrite.mjs');

const texts = (dir: string): Record<string, string> =>
  Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]));

const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
const embedded: Embedded = { version: pkg.version, scripts: texts(SCRIPTS_DIR), archive: texts(ARCHIVE_DIR) };

await build({
  stdin: { contents: "import { main } from './src/cli/main.ts';\nawait main(process.argv);\n", resolveDir: packageRoot, loader: 'ts', sourcefile: 'keyrite.ts' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  outfile: BUNDLE,
  define: { KEYRITE_EMBEDDED: JSON.stringify(embedded) },
  // The CommonJS dependencies' require() of Node's built-in modules, inside an ES module.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __keyriteRequire } from 'node:module';\nconst require = __keyriteRequire(import.meta.url);" },
  legalComments: 'eof',
  logLevel: 'warning',
});
chmodSync(BUNDLE, 0o755);
process.stdout.write(`${BUNDLE}\nsha256 ${createHash('sha256').update(readFileSync(BUNDLE)).digest('hex')}\n`);
