import { KeyriteError } from '../errors.js';
import type { Workspace } from '../fs/workspace.js';
import type { Identity } from '../custody/identity.js';
import { Ceremony, type Sealed, type StepInput } from '../transcript/writer.js';
import { loadScript } from '../transcript/script.js';
import type { Operator } from './operator.js';

// How a ceremony module leaves evidence: open the transcript only once every input has been
// checked (so a refused input leaves nothing half-done), walk the script's checklist with the
// operator, record each step, and close with a seal, or with an abort that says why.

export interface Opening {
  script: string;
  actor: Identity;
  params?: Record<string, unknown>;
}

async function confirmChecklist(c: Ceremony, operator: Operator, step: string, by: Identity): Promise<void> {
  const items = c.checklist(step);
  for (const [n, item] of items.entries()) await c.confirm(step, n, by, await operator.confirm(item));
}

/** Records `input` after its checklist items are confirmed. */
export async function step(c: Ceremony, operator: Operator, input: StepInput): Promise<{ seq: number; digest: string }> {
  await confirmChecklist(c, operator, input.step, input.actor);
  return c.record(input);
}

/**
 * Runs `work` inside a ceremony and seals it with `sealers(result)` (the actor first). Any
 * failure after the start is recorded as ceremony.abort before it propagates.
 */
export async function inCeremony<T>(
  ws: Workspace,
  operator: Operator,
  opening: Opening,
  work: (c: Ceremony) => Promise<T>,
  cosealers: Identity[] = [],
): Promise<T & { sealed: Sealed; ceremony: string }> {
  // The start's checklist is confirmed before anything is written, and recorded right after.
  const hows: ('prompt' | 'yes')[] = [];
  for (const item of loadScript(opening.script).steps['ceremony.start']?.checklist ?? []) hows.push(await operator.confirm(item));
  const c = await Ceremony.start(ws, opening);
  try {
    for (const [n, how] of hows.entries()) await c.confirm('ceremony.start', n, opening.actor, how);
    const result = await work(c);
    const sealed = await c.seal([opening.actor, ...cosealers]);
    return { ...result, sealed, ceremony: c.id };
  } catch (e) {
    const reason = e instanceof KeyriteError ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: String((e as Error)?.message ?? e) };
    await c.abort(reason).catch(() => undefined);
    throw e;
  }
}
