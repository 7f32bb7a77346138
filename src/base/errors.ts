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

// Error details that may leave the process (a script's --json output, a node's HTTP reply).
// Anything else a lower layer attached, a protocol complaint's evidence say, which can hold a
// decrypted sub-share, stays inside.
const PUBLIC_DETAILS = ['party', 'node', 'missing', 'failures', 'failureCount', 'entries', 'ceremonies', 'genesis', 'head'];

export function publicDetails(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(details).filter(([k]) => PUBLIC_DETAILS.includes(k)));
}
