// What a ceremony needs from the person running it. The CLI implements this with prompts,
// files named by flags, and spinners; ceremonies ask through it and never print or prompt.

export interface Operator {
  /** The passphrase of `name` (to unlock, or new: asked twice and checked for strength). */
  passphrase(name: string, purpose: 'unlock' | 'new'): Promise<string>;
  /**
   * The passphrase of `name` if they are here to give it, or null if they are not: a step that
   * can wait for them (a custodian's receipt for their shard) then goes on without them.
   */
  passphraseIfPresent(name: string): Promise<string | null>;
  /**
   * Asks to go on; throws when declined, or when nobody can be asked and --yes is absent.
   * Says how it was confirmed, for the transcript.
   */
  confirm(question: string): Promise<'prompt' | 'yes'>;
  /** Runs long work, showing progress where someone is watching. */
  progress<T>(label: string, work: () => Promise<T>): Promise<T>;
}
