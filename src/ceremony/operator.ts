// What a ceremony needs from the person running it. The CLI implements this with prompts,
// files named by flags, and spinners; ceremonies ask through it and never print or prompt.

export interface Operator {
  /** The passphrase of `name` (to unlock, or new: asked twice and checked for strength). */
  passphrase(name: string, purpose: 'unlock' | 'new'): Promise<string>;
  /** Asks to go on with a step; throws when declined or when it cannot ask and --yes is absent. */
  confirm(question: string): Promise<void>;
  /** Runs long work, showing progress where someone is watching. */
  progress<T>(label: string, work: () => Promise<T>): Promise<T>;
}
