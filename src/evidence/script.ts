import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { digestOf } from '../base/canonical.js';
import { KeyriteError } from '../base/errors.js';
import { checkArtifactRule, type ArtifactRule } from '../state/artifacts.js';
import type { Role } from '../state/roles.js';
import { embedded, packageRoot } from './tool.js';

// Ceremony scripts (ceremonies/<name>.json): for one lifecycle operation, who takes part, which
// role may record each step, which artifact kinds it may create, replace or check
// (src/state/artifacts.ts), what approvals must precede the sensitive act, who co-signs the
// seal, and the operator's checklist per step. Every entry names its script by digest, so the
// verifier checks each step against the very rules the operator was shown; every version ever
// shipped stays in ceremonies/archive/ (docs/ARCHITECTURE.md, "Ceremony scripts"), so editing a
// script never breaks the evidence written under an older one.

export interface StepRule {
  roles: Role[]; // roles that may be the step's actor
  checklist?: string[]; // what the operator confirms before the step, one item at a time
  /** The artifact kinds the step may name; a step without it names none (docs/ARCHITECTURE.md §6, "Artifacts"). */
  artifacts?: ArtifactRule;
}

export interface Approvals {
  operation: string; // the approval entries' params.operation
  count: number | 'policy'; // 'policy': the roster policy's approvals
  before: string; // the sensitive step they must precede (its params.target, if any, must match)
}

export interface ScriptDoc {
  v: 1;
  name: string;
  title: string;
  roles: Role[]; // everyone who takes part
  steps: Record<string, StepRule>; // a key ending in ".*" covers every step with that prefix
  approvals?: Approvals;
  seal: Role[]; // roles that must co-sign ceremony.seal beside the ceremony's actor
}

export interface Script extends ScriptDoc {
  digest: string; // digestOf(the JSON document)
}

export const SCRIPTS_DIR = join(packageRoot, 'ceremonies');
/** Every script version ever shipped, as <digest>.json: old transcripts name old versions. */
export const ARCHIVE_DIR = join(SCRIPTS_DIR, 'archive');

// Steps every ceremony may record without listing them: the ceremony's own bookkeeping is done
// by whoever may start it, and anyone taking part may confirm a checklist item.
const STARTER_STEPS = ['ceremony.interrupted', 'ceremony.abort', 'ceremony.seal'];
export const CHECKLIST_STEP = 'checklist.confirm';

function readScript(file: string, text: string): Script {
  const damaged = (cause?: unknown) => new KeyriteError('DAMAGED_FILE', `${file} is not a keyrite ceremony script`, { cause });
  let doc: ScriptDoc;
  try {
    doc = JSON.parse(text) as ScriptDoc;
  } catch (e) {
    throw damaged(e);
  }
  if (doc?.v !== 1 || typeof doc.name !== 'string' || !doc.steps?.['ceremony.start'] || !Array.isArray(doc.seal)) throw damaged();
  for (const [step, rule] of Object.entries(doc.steps)) {
    if (typeof rule !== 'object' || rule === null || !Array.isArray(rule.roles)) throw damaged();
    checkArtifactRule(rule.artifacts, `${file}, step ${step}`);
  }
  return { ...doc, digest: digestOf(doc) };
}

/** The .json files of ceremonies/ or its archive, name → text, sorted: embedded in the single-file build, else read from the package. */
function scriptFiles(dir: string): [string, string][] {
  const inBundle = embedded && (dir === ARCHIVE_DIR ? embedded.archive : embedded.scripts);
  const names = inBundle ? Object.keys(inBundle) : readdirSync(dir).filter((f) => f.endsWith('.json'));
  return names.sort().map((f) => [f, inBundle ? inBundle[f]! : readFileSync(join(dir, f), 'utf8')]);
}

/** The archive's file names (<digest>.json), sorted. */
export const archivedNames = (): string[] => scriptFiles(ARCHIVE_DIR).map(([f]) => f);

let current: Map<string, Script> | undefined;
let archive: Map<string, Script> | undefined;

/** The scripts new ceremonies follow, by name; each must be archived, or its transcripts could not be verified. */
function currentScripts(): Map<string, Script> {
  if (!current) {
    const archived = archivedScripts();
    current = new Map();
    for (const [f, text] of scriptFiles(SCRIPTS_DIR)) {
      const s = readScript(join(SCRIPTS_DIR, f), text);
      if (!archived.has(s.digest)) {
        throw new KeyriteError('UNKNOWN_SCRIPT', `ceremony script ${s.name} (${join(SCRIPTS_DIR, f)}, digest ${s.digest}) is not in ${ARCHIVE_DIR}; this build is incomplete`);
      }
      current.set(s.name, s);
    }
  }
  return current;
}

/** Every archived version, by digest; a file whose content is not the digest it is named by is refused. */
function archivedScripts(): Map<string, Script> {
  if (!archive) {
    archive = new Map();
    for (const [f, text] of scriptFiles(ARCHIVE_DIR)) {
      const s = readScript(join(ARCHIVE_DIR, f), text);
      if (`${s.digest}.json` !== f) throw new KeyriteError('DAMAGED_FILE', `${join(ARCHIVE_DIR, f)} holds a script whose digest is ${s.digest}, not the one it is named by`);
      archive.set(s.digest, s);
    }
  }
  return archive;
}

export function loadScript(name: string): Script {
  const s = currentScripts().get(name);
  if (!s) throw new KeyriteError('UNKNOWN_SCRIPT', `no ceremony script "${name}" in ${SCRIPTS_DIR}`);
  return s;
}

/** Every script version ever shipped, by digest: the verifier accepts only these. */
export function scriptsByDigest(): Map<string, Script> {
  return archivedScripts();
}

/** The rule for `step` in `script`, or undefined when the script does not allow the step. */
export function stepRule(script: Script, step: string): StepRule | undefined {
  if (STARTER_STEPS.includes(step)) return { roles: script.steps['ceremony.start']!.roles };
  if (step === CHECKLIST_STEP) return { roles: script.roles };
  const exact = script.steps[step];
  if (exact) return exact;
  const wildcard = Object.keys(script.steps).find((k) => k.endsWith('.*') && step.startsWith(k.slice(0, -1)));
  return wildcard ? script.steps[wildcard] : undefined;
}
