/**
 * How long a run may hold secrets in memory (a handed-in share and its nonces, or a DKG's
 * polynomial): a coordinator that vanishes mid-run must not leave them in a served node for good.
 * Its own module so that the CLI can show the default without loading the node.
 */
export const RUN_LIFETIME_MS = 120_000;
