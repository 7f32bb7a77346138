import { hex, sha256Hex } from '../base/canonical.js';
import { blame, inputError, malformed } from './blame.js';
import { decodePoint, decodeScalar } from './codec.js';
import { defaultRng } from './poly.js';
import { frostPublic, frostSecret, idHex, publicPackageOf } from './share.js';
import type { Suite } from './suite.js';
import type { Rounds, Share, SignOptions } from './types.js';

// FROST signing (RFC 9591 §5) among the signer set, every signer acting as its own coordinator:
// round 1 broadcasts nonce commitments and the message digest, round 2 broadcasts signature
// shares, finish checks each share (naming a bad one) and aggregates. Nonces live only in this
// closure, are consumed by noble's signShare, and are zeroed on wipe.

type Commitment = { identifier: string; hiding: Uint8Array; binding: Uint8Array };

export function signRounds(suite: Suite, o: SignOptions): Rounds<string> {
  const { share, signers, message } = o;
  checkSigners(share, signers);
  const { frost } = suite;
  const pub = frostPublic(suite, publicPackageOf(share));
  const secret = frostSecret(suite, share);
  const id = (p: string) => idHex(suite, share.parties, p);
  const digest = sha256Hex(message);
  const { nonces, commitments } = frost.commit(secret, o.rng ?? defaultRng);
  let list: Commitment[] = [];

  return {
    protocol: 'sign',
    me: share.party,
    round1Senders: signers,
    round2Senders: signers,
    round2Receivers: signers,
    round2Direct: false,
    round1: () => ({ hiding: hex(commitments.hiding), binding: hex(commitments.binding), message: digest }),

    round2(round1) {
      list = signers.map((p) => decodeCommitment(suite, p, id(p), round1[p], digest));
      return { broadcast: { share: hex(frost.signShare(secret, pub, nonces, list, message)) } };
    },

    finish(round2) {
      const shares: Record<string, Uint8Array> = {};
      for (const p of signers) {
        const s = decodeScalar(suite, (round2[p] as { share?: unknown } | undefined)?.share, () => malformed(p, 'signature share'));
        shares[id(p)] = suite.Fn.toBytes(s);
        if (!frost.verifyShare(pub, list, message, id(p), shares[id(p)]!)) {
          throw blame('PROTOCOL_INVALID_SIGNATURE_SHARE', p, `signature share from ${p} does not verify against its verifying share`);
        }
      }
      return hex(frost.aggregate(pub, list, message, shares));
    },

    wipe() {
      nonces.hiding.fill(0);
      nonces.binding.fill(0);
    },
  };
}

function checkSigners(share: Share, signers: string[]): void {
  const unknown = signers.filter((s) => !share.parties.includes(s));
  if (unknown.length) throw inputError('BAD_SIGNER_SET', `signers ${unknown.join(', ')} do not hold shares of key ${share.keyId}`);
  if (new Set(signers).size !== signers.length) throw inputError('BAD_SIGNER_SET', 'a signer is listed twice');
  if (signers.length < share.threshold) {
    throw inputError('BELOW_THRESHOLD', `${signers.length} signers cannot sign for a ${share.threshold}-of-${share.parties.length} key`);
  }
  if (!signers.includes(share.party)) throw inputError('BAD_SIGNER_SET', `${share.party} is not in the signer set`);
}

function decodeCommitment(suite: Suite, party: string, identifier: string, payload: unknown, digest: string): Commitment {
  const p = payload as { hiding?: unknown; binding?: unknown; message?: unknown } | undefined;
  const fail = () => malformed(party, 'nonce commitment');
  const hiding = decodePoint(suite, p?.hiding, fail);
  const binding = decodePoint(suite, p?.binding, fail);
  if (p?.message !== digest) {
    throw blame('PROTOCOL_MESSAGE_MISMATCH', party, `${party} is signing a different message (sha256 ${String(p?.message)}, expected ${digest})`);
  }
  return { identifier, hiding: hiding.toBytes(), binding: binding.toBytes() };
}
