import { KeyriteError } from '../base/errors.js';
import type { Workspace } from '../fs/workspace.js';
import type { Identity } from '../custody/identity.js';
import { Ceremony, type Sealed, type StepInput } from '../evidence/writer.js';
import { loadScript } from '../evidence/script.js';
import type { Operator } from './operator.js';

// How a ceremony module leaves evidence: confirm the script's checklists before anything is
// written (a "no" must leave nothing behind), open the transcript only once every input has
// been checked, record each step, and close with a seal, or with an abort that says why.

export interface Opening {
  script: string;
  actor: Identity;
  params?: Record<string, unknown>;
}

/** Answers to checklists asked before the ceremony opened, to be recorded once it has. */
export interface Confirmed {
  script: string;
  answers: { step: string; item: number; how: 'prompt' | 'yes' }[];
}

/**
 * Asks the checklists of `steps` (ceremony.start first, by default alone) before any write.
 * A ceremony module that writes before it opens the transcript calls this first itself.
 */
export async function confirmFirst(operator: Operator, script: string, steps: string[] = ['ceremony.start']): Promise<Confirmed> {
  const s = loadScript(script);
  const answers: Confirmed['answers'] = [];
  for (const step of steps) {
    for (const [item, text] of (s.steps[step]?.checklist ?? []).entries()) answers.push({ step, item, how: await operator.confirm(text) });
  }
  return { script, answers };
}

/** Records `input` after its checklist items are confirmed; for steps with no write before them. */
export async function step(c: Ceremony, operator: Operator, input: StepInput): Promise<{ seq: number; digest: string }> {
  for (const [n, item] of c.checklist(input.step).entries()) await c.confirm(input.step, n, input.actor, await operator.confirm(item));
  return c.record(input);
}

/**
 * Runs `work` inside a ceremony and seals it (the actor first, then `cosealers`). Checklists
 * are those `confirmed` beforehand, or else the start's, asked now. Any failure after the
 * start is recorded as ceremony.abort before it propagates.
 */
export async function inCeremony<T>(
  ws: Workspace,
  operator: Operator,
  opening: Opening,
  work: (c: Ceremony) => Promise<T>,
  cosealers: Identity[] = [],
  confirmed?: Confirmed,
): Promise<T & { sealed: Sealed; ceremony: string }> {
  const answers = (confirmed ?? (await confirmFirst(operator, opening.script))).answers;
  const c = await Ceremony.start(ws, opening);
  try {
    for (const a of answers) await c.confirm(a.step, a.item, opening.actor, a.how);
    const result = await work(c);
    const sealed = await c.seal([opening.actor, ...cosealers]);
    return { ...result, sealed, ceremony: c.id };
  } catch (e) {
    const reason = e instanceof KeyriteError ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: String((e as Error)?.message ?? e) };
    await c.abort(reason).catch(() => undefined);
    throw e;
  }
}
