// One error type crosses the layers: lower layers throw it with a stable code, the CLI maps the
// code to an exit status and prints the message. The codes are part of the command contract:
// this table is the one list of them, and README's "Error codes" table is tested against it.
// A rewrapped library error keeps its cause; the culprit of a protocol or node failure is a
// typed field (`party`, `node`), so callers never dig through an open bag for it.

export type ExitStatus = 1 | 2;

interface CodeInfo {
  exit: ExitStatus;
  meaning: string;
}

const usage = (meaning: string): CodeInfo => ({ exit: 2, meaning });
const refused = (meaning: string): CodeInfo => ({ exit: 1, meaning });

export const ERROR_CODES = {
  USAGE: usage('the command line is wrong'),
  MISSING_INPUT: usage('an input is missing and nobody can be asked for it'),
  NOT_CONFIRMED: usage('a confirmation is needed and nobody can be asked'),
  BAD_NAME: usage('a name is malformed'),
  BAD_POLICY: usage('a roster policy, threshold or party count is impossible'),
  BAD_RECIPIENT: usage('an age recipient is malformed'),
  BAD_SESSION: usage('a recovery session id is malformed'),
  BAD_MESSAGE: usage('a message to sign is malformed'),
  BAD_KEY_ID: usage('a key id is malformed, or no key has it'),
  NOT_LOOPBACK: usage('a node may listen only on a loopback address'),
  WRONG_PASSPHRASE: refused('the passphrase does not open the file named'),
  WEAK_PASSPHRASE: refused('a new passphrase is too short'),
  PASSPHRASE_MISMATCH: refused('a new passphrase was typed differently twice'),
  BAD_PASSPHRASE: refused('a passphrase file is empty'),
  DAMAGED_FILE: refused('a file is truncated, tampered with or not what it should be'),
  TRANSCRIPT_DAMAGED: refused('a transcript ends in damaged lines that are not a torn write'),
  NOT_FOUND: refused('a file is missing'),
  UNREADABLE: refused('a file cannot be read'),
  NOT_A_FILE: refused('a path names a directory, device or pipe where a regular file belongs'),
  TOO_LARGE: refused('a file, message or request is larger than keyrite accepts'),
  NO_WORKSPACE: refused('there is no workspace here'),
  WORKSPACE_EXISTS: refused('init was pointed at a non-empty directory'),
  WORKSPACE_BUSY: refused('another command holds the workspace lock'),
  FILE_EXISTS: refused('keyrite never overwrites a file it would create'),
  NOT_ENROLLED: refused('the roster does not know this person or node'),
  WRONG_ROLE: refused('the person holds another role in the roster'),
  ALREADY_ENROLLED: refused('the name or keys are enrolled already'),
  NOT_PERMITTED: refused('the roster or script does not allow this act (for a node: a call the caller may not make)'),
  ROSTER_SEALED: refused('a roster step that needs an open roster, after the seal'),
  ROSTER_NOT_SEALED: refused('a custodial act before the roster is sealed'),
  ROSTER_MISMATCH: refused('a roster, or roster.json, does not match its history'),
  KEY_RECORD_MISMATCH: refused('a key record file does not match what the transcript says'),
  RECIPIENT_MISMATCH: refused('a shard would go to a recipient other than the one its key record pins for the party'),
  BAD_CHANGE: refused('a roster change is impossible'),
  ARTIFACT_NOT_ALLOWED: refused('a step names an artifact its ceremony script does not let it create, replace or check'),
  BAD_IDENTITY: refused('a public identity is malformed or its fingerprint does not match its keys'),
  BAD_GENESIS: refused('the genesis entry does not carry a valid opening roster'),
  QUORUM_NOT_MET: refused('fewer approvers than the policy asks'),
  WRONG_REQUEST: refused('an approval is for another request, another act or another history'),
  APPROVAL_EXPIRED: refused('an approval request expired before it was approved or acted on'),
  APPROVAL_USED: refused('an approval was given twice, or its request was already consumed by its act'),
  IDENTITY_MISMATCH: refused('an identity file is not the one on record'),
  IDENTITY_RETIRED: refused('an identity file holds an identity a rotation retired'),
  ROTATION_REQUIRED: refused('a custodian\'s shards wait for a rotation to a new identity (after a custodian recovery, or a rotation cut short after its roster change)'),
  SHARD_RETIRED: refused('a shard file is one a rotation replaced'),
  NOT_FOR_THIS_IDENTITY: refused('a file is not encrypted to this identity'),
  GUARDIAN_TAKEN: refused('a guardian already serves another custodian'),
  BAD_SIGNATURE: refused('a signed record was altered, or is signed by someone else'),
  BAD_SHARE: refused('a guardian share was altered'),
  WRONG_SET: refused('a guardian share belongs to another set'),
  WRONG_CUSTODIAN: refused('a share or shard belongs to another custodian'),
  WRONG_GUARDIAN: refused('a guardian share belongs to another guardian'),
  WRONG_SESSION: refused('a release belongs to another recovery session'),
  WRONG_RECIPIENT: refused('a release names another recipient than the one its recovery session recorded'),
  SESSION_NOT_RECORDED: refused('no open recovery session with this id is recorded in the transcript'),
  TOO_FEW_SHARES: refused('fewer guardian shares than the set needs'),
  DUPLICATE_SHARE: refused('the same guardian share was given twice'),
  RECOVERY_MISMATCH: refused('the rebuilt key does not derive the recipient on record'),
  PROTOCOL_WRONG_SESSION: refused('a protocol message belongs to another session; the party is named'),
  PROTOCOL_WRONG_EPOCH: refused('a protocol message belongs to another epoch; the party is named'),
  PROTOCOL_WRONG_ROUND: refused('a protocol message belongs to another round; the party is named'),
  PROTOCOL_WRONG_RECIPIENT: refused('a protocol message is addressed to someone else; the party is named'),
  PROTOCOL_REPLAY: refused('a protocol message was sent twice; the party is named'),
  PROTOCOL_NOT_MEMBER: refused('a protocol message comes from outside the session; the party is named'),
  PROTOCOL_UNEXPECTED_SENDER: refused('a party sent in a round it does not send in; the party is named'),
  PROTOCOL_MISSING_MESSAGE: refused('a party sent nothing in a round; the party is named'),
  PROTOCOL_BAD_SIGNATURE: refused('a protocol message is not signed by its sender; the party is named'),
  PROTOCOL_MALFORMED: refused('a protocol message is malformed; the party is named'),
  PROTOCOL_ECHO_MISMATCH: refused('parties saw different round-1 broadcasts; the party is named'),
  PROTOCOL_INVALID_PROOF: refused('a proof of knowledge does not verify; the party is named'),
  PROTOCOL_INVALID_SHARE: refused('a dealt share fails its commitment check; the party is named'),
  PROTOCOL_INVALID_COMMITMENT: refused('a commitment is malformed or inconsistent; the party is named'),
  PROTOCOL_INVALID_SIGNATURE_SHARE: refused('a signature share does not verify; the party is named'),
  PROTOCOL_MESSAGE_MISMATCH: refused('parties signed different messages; the party is named'),
  PROTOCOL_OT_CHECK: refused('an ecdsa OT-extension message failed its correlation check; the party is named and banned until refresh'),
  PROTOCOL_MULTIPLICATION_CHECK: refused('an ecdsa multiplication reply failed its check; the party is named and banned until refresh'),
  PROTOCOL_INCONSISTENT_MULTIPLICATION: refused('an ecdsa multiplication does not match the party\'s key share or instance key; the party is named and banned until refresh'),
  PROTOCOL_INVALID_DECOMMITMENT: refused('a decommitment does not open its commitment; the party is named'),
  PROTOCOL_INVALID_SIGNATURE: refused('the combined signature does not verify; the party is named'),
  PROTOCOL_UNVERIFIED_CLAIM: refused('a node claimed another party is at fault, and its evidence does not prove it; the node is named, the accused is not blamed'),
  PROTOCOL_ABORTED: refused('the protocol run was aborted'),
  PROTOCOL_NOT_DONE: refused('a protocol result was asked for before the run finished'),
  PROTOCOL_NOT_STARTED: refused('a protocol run received messages before it started'),
  PROTOCOL_STARTED: refused('a protocol run was started twice'),
  PROTOCOL_DONE: refused('a finished protocol run received more messages'),
  PROTOCOL_BUSY: refused('a protocol run received messages while still processing'),
  DKG_DISAGREEMENT: refused('the nodes finished key generation, refresh, reshare or repair with different group keys or shares; nothing was stored'),
  SHARE_INVALID: refused('a key share is malformed or does not match its verifying share'),
  SHARE_WRONG_EPOCH: refused('a key share is of another epoch'),
  BAD_PARTIES: refused('an engine was given an impossible party list'),
  BAD_THRESHOLD: refused('an engine was given an impossible threshold'),
  BAD_SIGNER_SET: refused('an engine was given an impossible signer set'),
  BAD_DEALERS: refused('a reshare was given an impossible set of dealers'),
  BELOW_THRESHOLD: refused('fewer parties than the threshold'),
  COMBINE_TOO_FEW_SHARES: refused('emergency combine: fewer shares than the threshold'),
  COMBINE_DUPLICATE_SHARE: refused('emergency combine: the same party twice'),
  COMBINE_MIXED_SHARES: refused('emergency combine: shares of different keys or epochs'),
  COMBINE_WRONG_KEY: refused('emergency combine: the result is not the group key'),
  KEY_NOT_ACTIVE: refused('the key is retired or compromised'),
  WRONG_KEY: refused('a shard belongs to another key'),
  WRONG_EPOCH: refused('a shard belongs to another epoch'),
  UNKNOWN_ENGINE: refused('no such threshold engine'),
  TOO_FEW_SIGNERS: refused('fewer signers than the key threshold'),
  NOT_A_HOLDER: refused('a signer holds no party of the key'),
  SIGNATURE_INVALID: refused('the threshold signature failed verification and was not released'),
  SIGN_RETRY: refused('an ecdsa signing run hit a degenerate nonce (probability about 2^-128); sign again'),
  SIGNER_BANNED: refused('a signer failed an ecdsa consistency check before and may not sign until the key is refreshed'),
  SESSION_REQUIRED: refused('the ecdsa engine was started without the session id that binds its run'),
  NOT_HELD: refused('the node holds no share of the key'),
  NODE_NOT_EMPTY: refused('a node still holds the key'),
  SHARD_WRITE_FAILED: refused('a shard could not be written and checked; the node keeps its share'),
  RECEIPT_MISSING: refused('a node deleted its share before its custodian\'s receipt for that shard was recorded'),
  REQUEST_REFUSED: refused('a node refused a signing request'),
  SESSION_MISMATCH: refused('a node was given a session it is not part of'),
  NODE_BUSY: refused('a node is already running a protocol on this key'),
  NO_SUCH_RUN: refused('a node has no such protocol run'),
  SESSION_REUSED: refused('a node has run this session already'),
  BAD_REQUEST: refused('a node refused a malformed request'),
  REPLAYED_REQUEST: refused('a node refused a replayed request'),
  STALE_REQUEST: refused('a node refused a request outside its time window'),
  WRONG_NODE: refused('a request or attestation names another node'),
  HISTORY_NOT_EXTENDED: refused('a history that does not extend the one a node, or this machine, verified before (rewound or replaced)'),
  NODE_UNREACHABLE: refused('a node did not answer'),
  NODE_FAILED: refused('a node failed'),
  NODE_OVERLOADED: refused('a node over HTTP has too many connections or requests in progress'),
  VERIFY_FAILED: refused('audit verify found failures (listed in failures)'),
  UNKNOWN_SCRIPT: refused('no such ceremony script'),
  DECLINED: refused('the operator said no'),
  INTERNAL: refused('a bug: please report it'),
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(s: string): s is ErrorCode {
  return Object.hasOwn(ERROR_CODES, s);
}

export interface KeyriteErrorOptions {
  /** The protocol party to blame. */
  party?: string;
  /** The signing node that refused or failed. */
  node?: string;
  /** The library error this one rewraps. */
  cause?: unknown;
  /** Structured facts for the caller (audit failures, what is missing); filtered by publicDetails. */
  details?: Record<string, unknown>;
}

export class KeyriteError<C extends ErrorCode = ErrorCode> extends Error {
  readonly exit: ExitStatus;
  readonly party: string | undefined;
  readonly node: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(readonly code: C, message: string, o: KeyriteErrorOptions = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.exit = ERROR_CODES[code].exit;
    this.party = o.party;
    this.node = o.node;
    this.details = o.details ?? {};
  }
}

/** An untrusted value, as a message may show it: a string as it is, anything else as JSON; never throws (String() does, on a `toString` that is not a function). */
export function shown(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

// What of an error may leave the process (a script's --json output, a node's HTTP reply). The
// rest stays inside: an ecdsa complaint's evidence, say, can hold a decrypted multiplication
// message. An accusation leaves, for the coordinator to check: the only secret it holds is the
// accused dealer's sub-share of a run that is aborted (docs/ARCHITECTURE.md §5, "Blame").
const PUBLIC_DETAILS = ['missing', 'failures', 'failureCount', 'entries', 'ceremonies', 'genesis', 'head', 'accusation'];

export function publicDetails(e: KeyriteError): Record<string, unknown> {
  const kept = Object.entries(e.details).filter(([k]) => PUBLIC_DETAILS.includes(k));
  return { ...(e.party ? { party: e.party } : {}), ...(e.node ? { node: e.node } : {}), ...Object.fromEntries(kept) };
}
