// scrypt work factors (log2 N) for new passphrase files. Kept apart from age.ts so that the
// CLI can name them without loading the age library.

export const DEFAULT_WORK_FACTOR = 18;
export const FAST_WORK_FACTOR = 10; // --insecure-fast-kdf: tests and the demo only
