import { hex } from '../base/canonical.js';
import { inputError } from './blame.js';
import { frostSecret, groupData, parseShare, publicPackageOf, samePackage } from './share.js';
import type { Suite } from './suite.js';
import type { RecoveredKey, Share } from './types.js';

// Emergency recovery only (docs/ARCHITECTURE.md §1 step 6): interpolate the group secret from t shares with
// noble's combineSecret, and refuse to return anything that is not the group key's scalar.

export function combineShares(suite: Suite, input: Share[]): RecoveredKey {
  if (input.length === 0) throw inputError('COMBINE_TOO_FEW_SHARES', 'no shares given');
  // parseShare checks each secret against its own verifying share, naming the bad one.
  const shares = input.map((s, i) => parseShare(suite, s, `share ${i + 1} (${String((s as Partial<Share>).party)})`));
  const first = publicPackageOf(shares[0]!);
  for (const s of shares) {
    if (!samePackage(publicPackageOf(s), first)) {
      throw inputError('COMBINE_MIXED_SHARES', `share of ${s.party} belongs to key ${s.keyId} epoch ${s.epoch}, not key ${first.keyId} epoch ${first.epoch}`, { party: s.party });
    }
  }
  const parties = shares.map((s) => s.party);
  const dup = parties.find((p, i) => parties.indexOf(p) !== i);
  if (dup) throw inputError('COMBINE_DUPLICATE_SHARE', `share of ${dup} is given twice`, { party: dup });
  if (shares.length < first.threshold) {
    throw inputError('COMBINE_TOO_FEW_SHARES', `${shares.length} shares given; key ${first.keyId} needs ${first.threshold}`);
  }
  const signers = { min: first.threshold, max: first.parties.length };
  const secrets = shares.map((s) => frostSecret(suite, s));
  const scalarBytes = suite.frost.combineSecret(secrets, signers);
  for (const x of secrets) x.signingShare.fill(0);
  const scalar = suite.Fn.fromBytes(scalarBytes);
  if (scalar === 0n || !suite.Point.BASE.multiply(scalar).equals(groupData(suite, first).groupKey)) {
    throw inputError('COMBINE_WRONG_KEY', `the combined scalar does not match the group key of ${first.keyId}`);
  }
  const recovered = { engine: suite.id, keyId: first.keyId, epoch: first.epoch, publicKey: first.groupPublicKey, scalar: hex(scalarBytes), kind: suite.recoveredKind };
  scalarBytes.fill(0); // the hex string is what the caller gets; no second copy of the secret stays behind
  return recovered;
}
