import { canonical } from '../base/canonical.js';
import { parseEnvelope, signEnvelope, type Envelope } from '../base/dsse.js';
import type { Identity } from '../custody/identity.js';
import { publicOf } from '../custody/identity.js';
import { makeStatement, parseStatement, type Statement, type Subject } from './statement.js';
import { toolInfo } from './tool.js';

// One transcript entry, made and signed. The coordinator's writer makes most entries itself; a
// signing node makes its own (export.shard, node.delete, node.attest, keygen.share) from a draft
// the writer hands it — where in the chain the entry goes — and signs it with its own key, so no
// ceremony ever holds a node's identity (docs/ARCHITECTURE.md §6, "Who signs what").

/** Where the next entry goes: everything of its predicate that the signer does not decide. */
export interface EntryDraft {
  ceremony: string;
  seq: number;
  prev: string | null;
  roster: string; // digest of the roster in force
  script: string; // digest of the ceremony script
}

/** What the signer decides: the step and what it says. */
export interface EntryContent {
  step: string;
  subjects?: Subject[];
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
}

export function entryStatement(draft: EntryDraft, actor: string, content: EntryContent): Statement {
  return makeStatement(content.subjects ?? [], {
    ...draft,
    step: content.step,
    actor,
    tool: toolInfo(),
    params: content.params ?? {},
    result: content.result ?? {},
    time: new Date().toISOString(),
  });
}

/** The DSSE envelope of `statement`, signed by `signers` (the actor first), each under its roster fingerprint. */
export function signStatement(statement: Statement, signers: Identity[]): Envelope {
  return signEnvelope(Buffer.from(canonical(statement), 'utf8'), signers.map((s) => ({ keyid: publicOf(s).fingerprint, key: s.signing })));
}

/** A node's own entry: made from the writer's draft and signed by the node alone. */
export function signEntry(draft: EntryDraft, signer: Identity, content: EntryContent): Envelope {
  return signStatement(entryStatement(draft, signer.name, content), [signer]);
}

/** An entry handed back by a signer: its envelope and statement, parsed; throws an Error saying why not. */
export function readEntry(value: unknown): { envelope: Envelope; statement: Statement } {
  const envelope = parseEnvelope(JSON.stringify(value));
  return { envelope, statement: parseStatement(Buffer.from(envelope.payload, 'base64')) };
}
