import { secp256k1, secp256k1_FROST } from '@noble/curves/secp256k1.js';
import type { GroupPoint, PointOps, Suite } from '../suite.js';

// The secp256k1 suite the ecdsa engine shares with the generic Shamir/Feldman code (DKG, refresh,
// reshare, combine, share parsing): noble's plain RFC 9591 FROST(secp256k1, SHA-256) object — no
// Taproot tweak — for its DKG and combineSecret, noble's Point and Fn for everything else. The
// group key is the 33-byte compressed SEC1 point.

export const ECDSA_ENGINE_ID = 'ecdsa';

/** Printed wherever the engine is offered: keygen's output, README and CEREMONY.md (README, "The `ecdsa` engine is keyrite's own"). */
export const ECDSA_LABEL =
  'ecdsa: threshold ECDSA on secp256k1 (DKLs23, IACR ePrint 2023/765), implemented by keyrite itself on ' +
  '@noble/curves and @noble/hashes. It is keyrite\'s own implementation of a published protocol and has ' +
  'not been externally audited; the ed25519 and bip340 engines wrap audited code.';

export const Point = secp256k1.Point;
export const Fn = secp256k1.Point.Fn;
export type P = InstanceType<typeof secp256k1.Point>;

export const ecdsaSuite: Suite = {
  id: ECDSA_ENGINE_ID,
  frost: secp256k1_FROST,
  Point: secp256k1.Point as unknown as PointOps,
  Fn: secp256k1.Point.Fn,
  pointBytes: 33,
  encodeGroupKey: (p: GroupPoint) => p.toBytes(),
  decodeGroupKey: (b: Uint8Array) => secp256k1.Point.fromBytes(b) as unknown as GroupPoint,
  evenY: false,
  recoveredKind: 'secp256k1 ECDSA private key, 32 bytes big-endian (usable by any secp256k1 wallet)',
};

/** A GroupPoint from the shared code as the noble point it is. */
export const asPoint = (p: GroupPoint): P => p as unknown as P;
