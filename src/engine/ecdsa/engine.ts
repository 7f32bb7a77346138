import { secp256k1 } from '@noble/curves/secp256k1.js';
import { fromHex } from '../../base/canonical.js';
import { KeyriteError } from '../../base/errors.js';
import { inputError } from '../blame.js';
import { combineShares } from '../combine.js';
import { dkgRounds } from '../dkg.js';
import { refreshRounds } from '../refresh.js';
import { reshareRounds } from '../reshare.js';
import { parsePublicPackage, parseShare, publicPackageOf } from '../share.js';
import type { Engine, MultiRounds, Share } from '../types.js';
import { checkPairwise } from './pairwise.js';
import { withPairwiseSetup } from './setup.js';
import { signRounds, type BanCheck } from './sign.js';
import { ECDSA_ENGINE_ID, ECDSA_LABEL, ecdsaSuite } from './suite.js';

// The `ecdsa` engine (docs/ARCHITECTURE.md §3): threshold ECDSA on secp256k1 by DKLs23 (ePrint 2023/765),
// keyrite's own implementation on noble — see ECDSA_LABEL. Key generation, refresh and reshare
// are the project's Feldman/Shamir protocols on secp256k1 (noble's plain secp256k1 FROST DKG,
// refresh.ts, reshare.ts) with the DKLs23 pairwise OT setup riding along, plus one round for it
// (setup.ts); signing is Protocol 3.6 in three rounds (sign.ts).
//
// Messages: `sign` takes the 32-byte digest to sign and returns hex r ‖ s ‖ v (65 bytes: low s,
// v the recovery id 0–3); `verify` takes the same digest, the 33-byte group key and a 65- or
// 64-byte signature.
//
// Bans (docs/ARCHITECTURE.md §3): a signing run that fails an OT-extension, multiplication or consistency check
// throws a protocol error blaming the peer, and `banNoticeOf(error)` says so. The node must record
// the notice (key id, epoch, party; in its transcript) and pass every party recorded for the key's
// current epoch as `SignOptions.banned`: the engine then refuses to start a run with them
// (SIGNER_BANNED). A refresh (epoch + 1) renews every pairwise OT state and clears the bans.

export { ECDSA_ENGINE_ID, ECDSA_LABEL };
export type { BanCheck };

/** A party that failed a check whose repetition could leak an honest share (DKLs23 §5). */
export type BanNotice = { party: string; check: BanCheck; code: string };

export function banNoticeOf(e: unknown): BanNotice | null {
  if (!(e instanceof KeyriteError)) return null;
  const check = e.details.ban;
  const party = e.party;
  if (typeof check !== 'string' || typeof party !== 'string') return null;
  return { party, check: check as BanCheck, code: e.code };
}

/** Parses an ecdsa share: everything `parseShare` checks, plus the pairwise OT setup. */
export function parseEcdsaShare(value: unknown, what: string): Share {
  const base = parseShare(ecdsaSuite, value, what);
  const v = value as Partial<Share>;
  const pairwise = checkPairwise({ party: base.party, parties: base.parties, pairwise: v.pairwise }, (why) => inputError('SHARE_INVALID', `${what}: ${why}`, { party: base.party }));
  return { ...base, pairwise };
}

const withoutPairwise = (s: Share): Share => {
  const { pairwise: _p, ...rest } = s;
  return rest;
};

/** The parts of an ecdsa signature (hex r ‖ s ‖ v), as Ethereum and most wallets take them. */
export function recoverableParts(signature: string): { r: string; s: string; v: number } {
  if (!/^[0-9a-f]{130}$/.test(signature)) throw inputError('BAD_SIGNATURE', 'an ecdsa signature is 65 bytes: r, s and the recovery id');
  return { r: signature.slice(0, 64), s: signature.slice(64, 128), v: Number.parseInt(signature.slice(128), 16) };
}

export function verifyEcdsa(publicKey: string, digest: Uint8Array, signature: string): boolean {
  try {
    if (digest.length !== 32 || (signature.length !== 130 && signature.length !== 128)) return false;
    const sig = fromHex(signature, 'signature').subarray(0, 64);
    if (signature.length === 130) {
      // The recovery id must be the one that gives back the key.
      const v = fromHex(signature.slice(128), 'v')[0]!;
      if (v > 3 || !secp256k1.Signature.fromBytes(sig).addRecoveryBit(v).recoverPublicKey(digest).equals(secp256k1.Point.fromBytes(fromHex(publicKey, 'key', 33)))) return false;
    }
    return secp256k1.verify(sig, digest, fromHex(publicKey, 'public key', 33), { prehash: false, lowS: true });
  } catch {
    return false; // malformed key or signature: not a valid signature
  }
}

export function ecdsaEngine(): Engine<MultiRounds<string>, MultiRounds<Share>> {
  const id = ECDSA_ENGINE_ID;
  const parse = (s: Share): Share => parseEcdsaShare(s, `share of ${s.party}`);
  return {
    id,
    dkg: (o) => withPairwiseSetup(dkgRounds(ecdsaSuite, o), { holders: o.parties, sessionId: o.sessionId, rng: o.rng }),
    sign(o) {
      if (!o.sessionId) throw inputError('SESSION_REQUIRED', 'the ecdsa engine needs the session id to bind its signing run');
      return signRounds({ ...o, share: parse(o.share), sessionId: o.sessionId });
    },
    refresh(o) {
      const share = parse(o.share);
      return withPairwiseSetup(refreshRounds(ecdsaSuite, { ...o, share: withoutPairwise(share) }), { holders: share.parties, sessionId: o.sessionId, rng: o.rng });
    },
    reshare(o) {
      const old = parsePublicPackage(ecdsaSuite, o.old, `key ${o.old.keyId}`);
      const share = o.share && withoutPairwise(parse(o.share));
      return withPairwiseSetup(reshareRounds(ecdsaSuite, { ...o, old, share }), { holders: o.holders, sessionId: o.sessionId, rng: o.rng });
    },
    combine: (shares) => combineShares(ecdsaSuite, shares),
    verify: verifyEcdsa,
    parseShare: parseEcdsaShare,
    parsePublicPackage: (value, what) => parsePublicPackage(ecdsaSuite, value, what),
    publicPackage: publicPackageOf,
  };
}
