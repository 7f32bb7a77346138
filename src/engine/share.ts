import { canonical, fromHex, sha256Hex } from '../base/canonical.js';
import { inputError } from './blame.js';
import { decodeGroupKey, decodePoint, decodeScalar, encodeGroupKey, encodePoint, encodeScalar } from './codec.js';
import { lagrangeAtZero } from './poly.js';
import type { GroupPoint, Suite } from './suite.js';
import type { PublicPackage, Share } from './types.js';

// Shares and public packages as plain JSON, and their translation to noble's FROST packages.
// A holder's FROST identifier is its 1-based position in `parties`; the list is part of every
// share and of the session id, so all holders agree on it.

/** docs/ARCHITECTURE.md §6: `k` + first 16 hex of sha256(engine ‖ group public key bytes). */
export function keyIdOf(engine: string, publicKeyHex: string): string {
  const bytes = Buffer.concat([Buffer.from(engine, 'utf8'), fromHex(publicKeyHex, 'group public key')]);
  return 'k' + sha256Hex(bytes).slice(0, 16);
}

export function idScalar(parties: readonly string[], name: string): bigint {
  const i = parties.indexOf(name);
  if (i < 0) throw inputError('NOT_A_HOLDER', `${name} is not one of the holders ${parties.join(', ')}`);
  return BigInt(i + 1);
}

export function idHex(suite: Suite, parties: readonly string[], name: string): string {
  return suite.frost.Identifier.fromNumber(Number(idScalar(parties, name)));
}

export type KeyMaterial = {
  keyId?: string;
  epoch: number;
  groupKey: GroupPoint;
  /** bip340: x(P), hex (types.ts `Share.internalKey`). */
  internalKey?: string;
  verifyingShares: Record<string, GroupPoint>;
  threshold: number;
  parties: string[];
};

export function buildPublicPackage(suite: Suite, m: KeyMaterial): PublicPackage {
  const groupPublicKey = encodeGroupKey(suite, m.groupKey);
  return {
    v: 1,
    engine: suite.id,
    keyId: m.keyId ?? keyIdOf(suite.id, groupPublicKey),
    epoch: m.epoch,
    groupPublicKey,
    ...(m.internalKey === undefined ? {} : { internalKey: m.internalKey }),
    verifyingShares: Object.fromEntries(m.parties.map((p) => [p, encodePoint(m.verifyingShares[p]!)])),
    threshold: m.threshold,
    parties: [...m.parties],
  };
}

export function buildShare(suite: Suite, m: KeyMaterial, party: string, secret: bigint): Share {
  const pub = buildPublicPackage(suite, m);
  return { ...pub, party, secret: encodeScalar(suite, secret) };
}

export function publicPackageOf(share: Share): PublicPackage {
  const { party: _party, secret: _secret, pairwise: _pairwise, ...pub } = share;
  return structuredClone(pub);
}

export const serializeShare = (share: Share): string => canonical(share);

/** Parsed public data, as points. */
export type GroupData = { groupKey: GroupPoint; verifyingShares: Record<string, GroupPoint> };

export function parsePublicPackage(suite: Suite, value: unknown, what: string): PublicPackage {
  const bad = (why: string) => inputError('SHARE_INVALID', `${what}: ${why}`);
  const v = value as Partial<Share> | null;
  if (typeof v !== 'object' || v === null || v.v !== 1) throw bad('not a version-1 key package');
  if (v.engine !== suite.id) throw bad(`engine is ${JSON.stringify(v.engine)}, expected ${suite.id}`);
  if (!Number.isSafeInteger(v.epoch) || v.epoch! < 1) throw bad('bad epoch');
  const parties = v.parties;
  if (!Array.isArray(parties) || !parties.every((p) => typeof p === 'string' && p !== '') || new Set(parties).size !== parties.length) {
    throw bad('parties must be distinct names');
  }
  const t = v.threshold;
  if (!Number.isSafeInteger(t) || t! < 2 || t! > parties.length) throw bad(`threshold ${JSON.stringify(t)} does not fit ${parties.length} parties`);
  decodeGroupKey(suite, v.groupPublicKey, bad);
  if (v.keyId !== keyIdOf(suite.id, v.groupPublicKey!)) throw bad('key id does not match the group public key');
  const vs = v.verifyingShares;
  if (typeof vs !== 'object' || vs === null || Object.keys(vs).sort().join() !== [...parties].sort().join()) {
    throw bad('verifying shares must list exactly the parties');
  }
  checkInternalKey(suite, v, bad);
  const pkg: PublicPackage = {
    v: 1, engine: suite.id, keyId: v.keyId!, epoch: v.epoch!, groupPublicKey: v.groupPublicKey!,
    ...(v.internalKey === undefined ? {} : { internalKey: v.internalKey }),
    verifyingShares: { ...vs }, threshold: t!, parties: [...parties],
  };
  checkConsistent(suite, pkg, bad);
  return pkg;
}

// bip340: the internal key must be there and tweak (BIP-341, key path only) to the group key, so
// what is recorded as P is the key a `tr(x(P))` wallet derives this address from. Others have none.
function checkInternalKey(suite: Suite, v: Partial<PublicPackage>, bad: (why: string) => Error): void {
  if (!suite.outputKeyOf) {
    if (v.internalKey !== undefined) throw bad(`a ${suite.id} key has no internal key`);
    return;
  }
  if (typeof v.internalKey !== 'string' || !/^[0-9a-f]{64}$/.test(v.internalKey)) throw bad(`key ${v.keyId} has no 32-byte x-only internal key`);
  let outputKey: string;
  try {
    outputKey = suite.outputKeyOf(v.internalKey);
  } catch {
    throw bad(`internal key ${v.internalKey} of key ${v.keyId} is not a curve point`);
  }
  if (outputKey !== v.groupPublicKey) {
    throw bad(`internal key ${v.internalKey} of key ${v.keyId} tweaks (BIP-341, no script tree) to ${outputKey}, not to its public key ${v.groupPublicKey}`);
  }
}

export function groupData(suite: Suite, pkg: PublicPackage): GroupData {
  const fail = (why: string) => inputError('SHARE_INVALID', `key ${pkg.keyId}: ${why}`);
  return {
    groupKey: decodeGroupKey(suite, pkg.groupPublicKey, fail),
    verifyingShares: Object.fromEntries(pkg.parties.map((p) => [p, decodePoint(suite, pkg.verifyingShares[p], fail)])),
  };
}

// The verifying shares must be points of one degree t−1 polynomial whose value at 0 is the group
// key: interpolate from the first t, then every other holder's must lie on the same polynomial.
function checkConsistent(suite: Suite, pkg: PublicPackage, bad: (why: string) => Error): void {
  const { groupKey, verifyingShares } = groupData(suite, pkg);
  const base = pkg.parties.slice(0, pkg.threshold);
  for (const target of [null, ...pkg.parties.slice(pkg.threshold)]) {
    const expected = target === null ? groupKey : verifyingShares[target]!;
    if (!interpolateAt(suite, pkg.parties, base, verifyingShares, target).equals(expected)) {
      throw bad(target === null ? 'verifying shares do not add up to the group key' : `verifying share of ${target} is inconsistent`);
    }
  }
}

// Σ λ_j(x)·VS_j over `base`, at x = 0 (target null) or at the target's identifier.
function interpolateAt(suite: Suite, parties: string[], base: string[], vs: Record<string, GroupPoint>, target: string | null): GroupPoint {
  const { Fn } = suite;
  const xs = base.map((p) => idScalar(parties, p));
  const x = target === null ? Fn.ZERO : idScalar(parties, target);
  let acc = suite.Point.ZERO;
  xs.forEach((xi, i) => {
    // λ_i(x) = Π_{j≠i} (x − x_j)/(x_i − x_j); at x = 0 this is lagrangeAtZero.
    const lambda = target === null ? lagrangeAtZero(suite, xs, xi) : xs.reduce((l, xj) => (xj === xi ? l : Fn.mul(l, Fn.div(Fn.sub(x, xj), Fn.sub(xi, xj)))), Fn.ONE);
    // Public verifying share × public Lagrange coefficient: variable time is safe (and ~3× faster).
    acc = acc.add(vs[base[i]!]!.multiplyUnsafe(lambda));
  });
  return acc;
}

export function parseShare(suite: Suite, value: unknown, what: string): Share {
  const pub = parsePublicPackage(suite, value, what);
  const v = value as Partial<Share>;
  const bad = (why: string) => inputError('SHARE_INVALID', `${what}: ${why}`, { party: v.party });
  if (typeof v.party !== 'string' || !pub.parties.includes(v.party)) throw bad('party is not one of the holders');
  const secret = decodeScalar(suite, v.secret, bad);
  if (secret === 0n) throw bad('zero secret');
  const expected = decodePoint(suite, pub.verifyingShares[v.party], bad);
  // The share must be the one its own public package describes: this refuses a share from
  // another key or epoch that was relabelled, and a corrupted secret.
  if (!suite.Point.BASE.multiply(secret).equals(expected)) throw bad(`secret of ${v.party} does not match its verifying share`);
  return { ...pub, party: v.party, secret: v.secret as string };
}

/** noble's FrostPublic for signing: commitments[0] is all signing needs of the commitments. */
export function frostPublic(suite: Suite, pkg: PublicPackage) {
  const { groupKey, verifyingShares } = groupData(suite, pkg);
  return {
    signers: { min: pkg.threshold, max: pkg.parties.length },
    commitments: [groupKey.toBytes()],
    verifyingShares: Object.fromEntries(pkg.parties.map((p) => [idHex(suite, pkg.parties, p), verifyingShares[p]!.toBytes()])),
  };
}

export function frostSecret(suite: Suite, share: Share) {
  return { identifier: idHex(suite, share.parties, share.party), signingShare: fromHex(share.secret, 'share secret', suite.Fn.BYTES) };
}

export function samePackage(a: PublicPackage, b: PublicPackage): boolean {
  return canonical(a) === canonical(b);
}
