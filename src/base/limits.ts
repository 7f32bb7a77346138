// The sizes keyrite accepts from outside, in one place so README can quote them and every
// layer checks the same number: a message to sign (docs/ARCHITECTURE.md §7, `sign`) is refused
// above this before anyone unlocks anything, and a node refuses a larger one too.

/** The largest message `sign` takes: 1 MiB (a bip340 sighash is 32 bytes; an ed25519 transaction a few KiB). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
