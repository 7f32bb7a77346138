import { KeyriteError, type ErrorCode } from '../base/errors.js';

// Protocol failures carry a stable code and name the party to blame, in the message and in
// its `party` field, so the ceremony layer can record who aborted a run and why.

export type ProtocolCode =
  | 'PROTOCOL_WRONG_SESSION'
  | 'PROTOCOL_WRONG_EPOCH'
  | 'PROTOCOL_WRONG_ROUND'
  | 'PROTOCOL_WRONG_RECIPIENT'
  | 'PROTOCOL_REPLAY'
  | 'PROTOCOL_NOT_MEMBER'
  | 'PROTOCOL_UNEXPECTED_SENDER'
  | 'PROTOCOL_MISSING_MESSAGE'
  | 'PROTOCOL_BAD_SIGNATURE'
  | 'PROTOCOL_MALFORMED'
  | 'PROTOCOL_ECHO_MISMATCH'
  | 'PROTOCOL_INVALID_PROOF'
  | 'PROTOCOL_INVALID_SHARE'
  | 'PROTOCOL_INVALID_COMMITMENT'
  | 'PROTOCOL_INVALID_SIGNATURE_SHARE'
  | 'PROTOCOL_MESSAGE_MISMATCH'
  // ecdsa (DKLs23): the first three carry `details.ban`, the check that failed (BanCheck)
  | 'PROTOCOL_OT_CHECK'
  | 'PROTOCOL_MULTIPLICATION_CHECK'
  | 'PROTOCOL_INCONSISTENT_MULTIPLICATION'
  | 'PROTOCOL_INVALID_DECOMMITMENT'
  | 'PROTOCOL_INVALID_SIGNATURE'
  | 'PROTOCOL_ABORTED';

export function blame(code: ProtocolCode, party: string, message: string, details: Record<string, unknown> = {}): KeyriteError {
  return new KeyriteError(code, message, { party, details });
}

export function malformed(party: string, what: string): KeyriteError {
  return blame('PROTOCOL_MALFORMED', party, `malformed ${what} from ${party}`);
}

/** A local input the caller got wrong (bad share, bad signer set): not a protocol party's fault. */
export function inputError(code: ErrorCode, message: string, culprit: { party?: string | undefined } = {}): KeyriteError {
  return new KeyriteError(code, message, { party: culprit.party });
}
