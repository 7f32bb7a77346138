// One error type crosses the layers: lower layers throw it with a stable code, the CLI maps it
// to an exit status and a message. Codes are part of the command contract (README, "Error codes").

export type ExitStatus = 1 | 2;

export class KeyriteError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exit: ExitStatus = 1,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A missing or malformed input from the operator: exit 2. */
export function usageError(message: string, code = 'USAGE'): KeyriteError {
  return new KeyriteError(code, message, 2);
}
