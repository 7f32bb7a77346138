import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import { schnorr, schnorr_FROST } from '@noble/curves/secp256k1.js';
import type { IField } from '@noble/curves/abstract/modular.js';
import { taprootOutputKey } from './taproot.js';

// A suite is everything curve-specific the shared FROST code needs: noble's FROST object, its
// Point and scalar field Fn, and how the group key is written down. No arithmetic lives here.

export interface GroupPoint {
  add(other: GroupPoint): GroupPoint;
  multiply(scalar: bigint): GroupPoint;
  /** Variable time: only for public points and public scalars. */
  multiplyUnsafe(scalar: bigint): GroupPoint;
  negate(): GroupPoint;
  equals(other: GroupPoint): boolean;
  toBytes(): Uint8Array;
  assertValidity(): void;
  is0(): boolean;
  isTorsionFree(): boolean;
}

export interface PointOps {
  readonly BASE: GroupPoint;
  readonly ZERO: GroupPoint;
  fromBytes(bytes: Uint8Array): GroupPoint;
}

export type Frost = typeof ed25519_FROST;

export interface Suite {
  readonly id: string;
  readonly frost: Frost;
  readonly Point: PointOps;
  readonly Fn: IField<bigint>;
  /** Encoded size of a verifying share / commitment point. */
  readonly pointBytes: number;
  /** Group key as users and verifiers see it. */
  encodeGroupKey(p: GroupPoint): Uint8Array;
  decodeGroupKey(bytes: Uint8Array): GroupPoint;
  /** bip340: after DKG, negate shares if Q has odd y, so the x-only key is exact (no tweak). */
  readonly evenY: boolean;
  /** Label of the emergency-recovery scalar. */
  readonly recoveredKind: string;
  /**
   * bip340: x(Q) of an x-only internal key x(P) (BIP-341 key path only, `taproot.ts`). Present
   * exactly where keys carry an internal key: the group key is Q, and P is kept beside it.
   */
  readonly outputKeyOf?: (internalKeyHex: string) => string;
}

const ed25519Suite: Suite = {
  id: 'ed25519',
  frost: ed25519_FROST,
  Point: ed25519.Point as unknown as PointOps,
  Fn: ed25519.Point.Fn,
  pointBytes: 32,
  encodeGroupKey: (p) => p.toBytes(),
  decodeGroupKey: (b) => ed25519.Point.fromBytes(b) as unknown as GroupPoint,
  evenY: false,
  recoveredKind: 'ed25519 secret scalar, 32 bytes little-endian (not an RFC 8032 seed)',
};

// BIP-340 keys are x-only: Q is stored as x(Q) and read back as the even-y point with that x.
// noble's schnorr_FROST DKG has already applied the BIP-341 TapTweak (empty merkle root), so Q
// is the Taproot output key; nothing here tweaks again. The untweaked sum of the DKG's constant
// commitments, the internal key P, is kept as x(P) beside Q (dkg.ts), checked with `outputKeyOf`.
const bip340Suite: Suite = {
  id: 'bip340',
  frost: schnorr_FROST,
  Point: schnorr.Point as unknown as PointOps,
  Fn: schnorr.Point.Fn,
  pointBytes: 33,
  encodeGroupKey: (p) => {
    const b = p.toBytes();
    if (b[0] !== 0x02) throw new Error('bip340 group key must have even y before encoding');
    return b.subarray(1);
  },
  decodeGroupKey: (b) => schnorr.Point.fromBytes(Uint8Array.of(0x02, ...b)) as unknown as GroupPoint,
  evenY: true,
  recoveredKind: 'BIP-340 secret key d of the Taproot output key (d·G = Q with even y), 32 bytes big-endian',
  outputKeyOf: taprootOutputKey,
};

export const SUITES: Readonly<Record<string, Suite>> = { ed25519: ed25519Suite, bip340: bip340Suite };
