// Archives the current ceremony scripts: each ceremonies/<name>.json is copied, byte for byte,
// to ceremonies/archive/<digest>.json unless that version is there already. Run it after
// editing a script (`npm run archive-scripts`) and commit both; an archived version is never
// edited or removed, because transcripts written under it name it by digest
// (docs/ARCHITECTURE.md, "Ceremony scripts"). test/evidence/script-archive.test.ts fails when a
// current script is missing from the archive.
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { digestOf } from '../src/base/canonical.js';
import { ARCHIVE_DIR, SCRIPTS_DIR } from '../src/evidence/script.js';

for (const f of readdirSync(SCRIPTS_DIR).filter((n) => n.endsWith('.json')).sort()) {
  const digest = digestOf(JSON.parse(readFileSync(join(SCRIPTS_DIR, f), 'utf8')));
  const target = join(ARCHIVE_DIR, `${digest}.json`);
  if (existsSync(target)) continue;
  copyFileSync(join(SCRIPTS_DIR, f), target);
  console.log(`archived ${f} as ${digest}.json`);
}
