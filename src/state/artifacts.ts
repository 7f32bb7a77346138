import { KeyriteError } from '../base/errors.js';
import { NAME } from './identity.js';
import { KEY_ID } from './key-record.js';

// Artifacts: what a transcript entry's subjects name (docs/ARCHITECTURE.md §6, "Artifacts"). Every
// subject name is one of a few kinds, each with one spelling: public records by their workspace
// path, files a person carries away by their role, never by a local path (so a drill on a shard
// or share kept on the holder's own medium records the same name, and leaks no layout). A name
// of no kind is refused. Each ceremony script step declares which kinds it may create, replace
// or only check (re-record with the digest on record); `admitArtifacts` is the one rule, applied
// by the fold for the writer and the verifier alike. So a guardian's drill cannot re-record
// the digest of a key record, and a tampered record then fails audit.

export const ARTIFACT_KINDS = ['key-record', 'public-identity', 'guardian-set', 'guardian-share', 'shard'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** A subject name, parsed: its kind and what the name says. */
export type Artifact =
  | { kind: 'key-record'; keyId: string } // keys/<keyId>.json
  | { kind: 'public-identity'; name: string } // identities/<name>.pub.json
  | { kind: 'guardian-set'; custodian: string } // guardians/<custodian>/set.json
  | { kind: 'guardian-share'; guardian: string; setId: string } // keyrite:share/<guardian>/<setId>
  | { kind: 'shard'; custodian: string; keyId: string; epoch: number }; // keyrite:shard/<custodian>/<keyId>/e<epoch>

/** What a script step may do with each kind (ceremonies/*.json, a step's `artifacts`). */
export interface ArtifactRule {
  /** Kinds the step may name for the first time. */
  creates?: ArtifactKind[];
  /** Kinds on record the step may give a new digest. */
  replaces?: ArtifactKind[];
  /** Kinds on record the step may name again with the same digest only (a drill). */
  checks?: ArtifactKind[];
}

const name = NAME.source.slice(1, -1);
const keyId = KEY_ID.source.slice(1, -1);
const SET_ID = '[0-9a-f]{32}'; // hex of 16 random bytes (splitAgeKey)

const SPELLINGS: { re: RegExp; of: (m: string[]) => Artifact }[] = [
  { re: new RegExp(`^keys/(${keyId})\\.json$`), of: (m) => ({ kind: 'key-record', keyId: m[1]! }) },
  { re: new RegExp(`^identities/(${name})\\.pub\\.json$`), of: (m) => ({ kind: 'public-identity', name: m[1]! }) },
  { re: new RegExp(`^guardians/(${name})/set\\.json$`), of: (m) => ({ kind: 'guardian-set', custodian: m[1]! }) },
  { re: new RegExp(`^keyrite:share/(${name})/(${SET_ID})$`), of: (m) => ({ kind: 'guardian-share', guardian: m[1]!, setId: m[2]! }) },
  { re: new RegExp(`^keyrite:shard/(${name})/(${keyId})/e([1-9][0-9]{0,8})$`), of: (m) => ({ kind: 'shard', custodian: m[1]!, keyId: m[2]!, epoch: Number(m[3]) }) },
];

/** The artifact a subject name stands for, or undefined when it is no kind of keyrite artifact. */
export function artifactOf(subject: string): Artifact | undefined {
  for (const s of SPELLINGS) {
    const m = s.re.exec(subject);
    if (m) return s.of(m);
  }
  return undefined;
}

/** How the transcript names a shard: by its role, since the custodian carries it away. */
export function shardRoleName(custodian: string, keyId: string, epoch: number): string {
  return `keyrite:shard/${custodian}/${keyId}/e${epoch}`;
}

/** How the transcript names a guardian's share of a set: by its role, since the guardian carries it away. */
export function shareRoleName(guardian: string, setId: string): string {
  return `keyrite:share/${guardian}/${setId}`;
}

/** Refuses a script rule that names a kind keyrite does not know (a damaged or mistaken script). */
export function checkArtifactRule(rule: unknown, what: string): ArtifactRule | undefined {
  if (rule === undefined) return undefined;
  const r = rule as Record<string, unknown>;
  const lists = ['creates', 'replaces', 'checks'];
  const ok = typeof r === 'object' && r !== null && Object.keys(r).every((k) => lists.includes(k)) &&
    lists.every((k) => r[k] === undefined || (Array.isArray(r[k]) && (r[k] as unknown[]).every((x) => ARTIFACT_KINDS.includes(x as ArtifactKind))));
  if (!ok) throw new KeyriteError('DAMAGED_FILE', `${what}: its artifacts must list only ${lists.join(', ')}, each of kinds among ${ARTIFACT_KINDS.join(', ')}`);
  return r as ArtifactRule;
}

/** What the fold knows of an artifact: the digest on record, and which step recorded it. */
export interface RecordedArtifact {
  sha256: string;
  ceremony: string;
  step: string;
}

/** One entry's subjects, as `admitArtifacts` judges them. */
export interface NamedArtifacts {
  ceremony: string;
  step: string;
  subjects: { name: string; sha256: string }[];
  /** What the step's script rule declares; undefined: the step may name no artifact. */
  rule: ArtifactRule | undefined;
}

/**
 * The subjects that change the record: a new artifact or a new digest. A check (the same digest
 * again) changes nothing, so the record keeps the step that set the digest. Throws
 * ARTIFACT_NOT_ALLOWED for a name given twice, a name of no kind, a kind the step does not
 * declare, a creation it may not make, and a new digest from a step that may not replace that
 * kind.
 */
export function admitArtifacts(e: NamedArtifacts, prior: (name: string) => RecordedArtifact | undefined): NamedArtifacts['subjects'] {
  const at = `${e.step} in ${e.ceremony}`;
  const refuse = (why: string) => new KeyriteError('ARTIFACT_NOT_ALLOWED', `${at} ${why}`);
  const twice = e.subjects.find((s, i) => e.subjects.findIndex((x) => x.name === s.name) !== i);
  if (twice) throw refuse(`names ${twice.name} twice`);
  return e.subjects.filter(({ name: subject, sha256 }) => {
    const art = artifactOf(subject);
    if (!art) throw refuse(`names ${JSON.stringify(subject)}, which is no kind of keyrite artifact (${ARTIFACT_KINDS.join(', ')})`);
    const may = (list: ArtifactKind[] | undefined) => list?.includes(art.kind) ?? false;
    const { creates, replaces, checks } = e.rule ?? {};
    if (!may(creates) && !may(replaces) && !may(checks)) throw refuse(`names ${subject}, a ${art.kind}; its script lets ${e.step} name no ${art.kind}`);
    const was = prior(subject);
    if (!was) {
      if (!may(creates)) throw refuse(`names ${subject}, which no step has recorded; its script lets ${e.step} check or replace a ${art.kind} on record, not create one`);
      return true;
    }
    if (was.sha256 === sha256) return false;
    if (!may(replaces)) {
      throw refuse(`records sha256 ${sha256} for ${subject}, which ${was.step} in ${was.ceremony} recorded as ${was.sha256}; its script does not let ${e.step} replace a ${art.kind}`);
    }
    return true;
  });
}
