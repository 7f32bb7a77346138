import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { hex } from '../../base/canonical.js';
import type { KeyriteError } from '../../base/errors.js';
import { blame, inputError, malformed, type ProtocolCode } from '../blame.js';
import { lagrangeAtZero, defaultRng } from '../poly.js';
import { groupData, idScalar, publicPackageOf } from '../share.js';
import type { MultiRounds, RoundIn, RoundOut, Rng, Share } from '../types.js';
import { bytes, encPoint, encScalar, point, scalar } from './codec.js';
import { tagged } from './hash.js';
import { mulFinish, mulRespond, mulStart, mulWipe, type MulBobState, type MulStart } from './multiply.js';
import { decodePair, wipePair, type PairSetup } from './pairwise.js';
import { asPoint, ecdsaSuite, Fn, Point, type P } from './suite.js';

// DKLs23 signing, Protocol 3.6 of ePrint 2023/765, among a signer set of at least t holders.
// Each signer i turns its Shamir share into an additive one, sk_i = λ_i·x_i, and samples an
// instance key r_i (R_i = r_i·G) and an inversion mask φ_i. For every other signer j, the pair
// runs F_RVOLE (multiply.ts) twice, once each way: j, as Bob, holds a random χ_{j,i}; i, as
// Alice, inputs (r_i, sk_i); they end with c_{i,j} + d_{j,i} = (r_i, sk_i)·χ_{j,i}.
//
//   round 1  broadcast: commitment to R_i, digest to sign;  to each j: Bob's OT-extension message
//   round 2  to each j: decommitment of R_i; Alice's reply; Γ^u = c^u·G, Γ^v = c^v·G;
//                       ψ_{i,j} = φ_i − χ_{i,j}            (χ_{i,j}: i's Bob input towards j)
//   round 3  checks per j: decommitment; Bob's multiplication check; χ_{i,j}·R_j − Γ^u_{j,i} =
//            d^u·G and χ_{i,j}·X_j − Γ^v_{j,i} = d^v·G (X_j = λ_j·Y_j from the verifying shares —
//            the paper's second check, with its pk_j);
//            broadcast: u_i = r_i·(φ_i + Σψ_{j,i}) + Σ(c^u + d^u), w_i = H(m)·φ_i + x(R)·v_i, where
//            v_i is u_i with sk_i for r_i. Σu = r·φ and Σv = sk·φ, so s = Σw / Σu.
//   finish   s, normalised to low s with its recovery id, checked with noble before it is returned.
// Deviations, on purpose: no zero-sharing re-randomisation of sk_i (X_j is fixed by public
// verifying shares, so it is checked directly instead of Σ pk_j = pk); the message digest is
// known from round 1 and echoed there, so a signer with another digest is named at once.

export type EcdsaSignOptions = {
  share: Share;
  signers: string[];
  message: Uint8Array;
  sessionId: string;
  rng?: Rng;
  banned?: readonly string[];
};

/** Checks that end in a ban of the blamed party until the key is refreshed (docs/ARCHITECTURE.md §3). */
export type BanCheck = 'ot-extension' | 'multiplication' | 'consistency';

type Peer = { pair: PairSetup; asBob: Uint8Array; asAlice: Uint8Array; bob: MulBobState; bobMessage: MulStart; cu?: bigint; cv?: bigint };

export function signRounds(o: EcdsaSignOptions): MultiRounds<string> {
  const { share, signers, message, sessionId: sid } = o;
  checkSigners(o);
  const rng = o.rng ?? defaultRng;
  const me = share.party;
  const others = signers.filter((s) => s !== me);
  const { groupKey, verifyingShares } = groupData(ecdsaSuite, publicPackageOf(share));
  const lambda = (p: string): bigint => lagrangeAtZero(ecdsaSuite, signers.map((s) => idScalar(share.parties, s)), idScalar(share.parties, p));
  // Public point times public scalar: the variable-time multiplication is safe here.
  const additive = (p: string): P => asPoint(verifyingShares[p]!).multiplyUnsafe(lambda(p));
  const secret = { sk: Fn.mul(lambda(me), Fn.fromBytes(Uint8Array.from(Buffer.from(share.secret, 'hex')))), r: randomScalar(rng), phi: randomScalar(rng) };
  const R = Point.BASE.multiply(secret.r);
  const salt = rng(32);
  const digestHex = hex(message);
  const peers: Record<string, Peer> = {};
  for (const j of others) {
    const pair = decodePair(share.pairwise![j]!);
    const asBob = tagged('sign/ote', [sid, j, me]);
    const { message: bobMessage, state: bob } = mulStart(pair.receive, asBob, rng);
    peers[j] = { pair, asBob, asAlice: tagged('sign/ote', [sid, me, j]), bob, bobMessage };
  }
  const commitments: Record<string, Uint8Array> = {};
  let Rtotal: P | undefined;
  const everyone = { senders: signers, receivers: signers };

  return {
    protocol: 'sign',
    me,
    plan: [
      { ...everyone, broadcast: true, direct: true },
      { ...everyone, broadcast: false, direct: true },
      { ...everyone, broadcast: true, direct: false },
    ],

    send(round, got) {
      if (round === 1) return round1();
      if (round === 2) return round2(got);
      return round3(got);
    },

    finish(got) {
      return aggregate(got);
    },

    wipe() {
      secret.sk = secret.r = secret.phi = 0n;
      salt.fill(0);
      for (const p of Object.values(peers)) {
        mulWipe(p.bob);
        wipePair(p.pair);
        p.cu = p.cv = 0n;
      }
    },
  };

  function round1(): RoundOut {
    const commitment = commit(sid, me, R, salt);
    return {
      broadcast: { commitment: hex(commitment), digest: digestHex },
      direct: Object.fromEntries(others.map((j) => [j, { mul: peers[j]!.bobMessage }])),
    };
  }

  function round2(got: RoundIn): RoundOut {
    const direct: Record<string, unknown> = {};
    for (const j of others) {
      const b = got.broadcast[j] as { commitment?: unknown; digest?: unknown } | undefined;
      commitments[j] = bytes(b?.commitment, 32, () => malformed(j, 'signing commitment'));
      if (b?.digest !== digestHex) throw blame('PROTOCOL_MESSAGE_MISMATCH', j, `${j} is signing a different digest (${String(b?.digest)}, expected ${digestHex})`);
    }
    for (const j of others) {
      const p = peers[j]!;
      const mul = (got.direct[j] as { mul?: unknown } | undefined)?.mul;
      const fail = {
        malformed: (why: string) => blame('PROTOCOL_MALFORMED', j, `malformed OT extension message from ${j}: ${why}`),
        check: (why: string) => banned('PROTOCOL_OT_CHECK', 'ot-extension', j, `OT extension message from ${j}: ${why}`),
      };
      const { shares, reply } = mulRespond(p.pair.send, p.asAlice, mul, [secret.r, secret.sk], rng, fail);
      [p.cu, p.cv] = shares as [bigint, bigint];
      direct[j] = {
        R: encPoint(R), salt: hex(salt), mul: reply,
        gammaU: encPoint(Point.BASE.multiply(p.cu)), gammaV: encPoint(Point.BASE.multiply(p.cv)),
        psi: encScalar(Fn.sub(secret.phi, p.bob.b)),
      };
    }
    return { direct };
  }

  function round3(got: RoundIn): RoundOut {
    let Rsum = R;
    let psiSum = Fn.ZERO;
    let cross = { u: Fn.ZERO, v: Fn.ZERO };
    for (const j of others) {
      const p = peers[j]!;
      const body = got.direct[j] as Record<string, unknown> | undefined;
      const bad = () => malformed(j, 'signing round-2 message');
      const Rj = point(body?.R, bad);
      if (hex(commit(sid, j, Rj, bytes(body?.salt, 32, bad))) !== hex(commitments[j]!)) {
        throw blame('PROTOCOL_INVALID_DECOMMITMENT', j, `${j}'s instance key does not open its round-1 commitment`);
      }
      const gammaU = point(body?.gammaU, bad);
      const gammaV = point(body?.gammaV, bad);
      const psi = scalar(body?.psi, bad);
      const fail = {
        malformed: (why: string) => blame('PROTOCOL_MALFORMED', j, `malformed multiplication reply from ${j}: ${why}`),
        check: (why: string) => banned('PROTOCOL_MULTIPLICATION_CHECK', 'multiplication', j, `multiplication reply from ${j}: ${why}`),
      };
      const [du, dv] = mulFinish(p.bob, p.bobMessage, body?.mul, fail) as [bigint, bigint];
      // DKLs23 Protocol 3.6 consistency checks: j multiplied with the R_j it committed to and with
      // its own additive key share, not with other values.
      if (!Rj.multiply(p.bob.b).subtract(gammaU).equals(Point.BASE.multiply(du))) {
        throw banned('PROTOCOL_INCONSISTENT_MULTIPLICATION', 'consistency', j, `${j}'s multiplication does not match its instance key R_${j}`);
      }
      if (!additive(j).multiply(p.bob.b).subtract(gammaV).equals(Point.BASE.multiply(dv))) {
        throw banned('PROTOCOL_INCONSISTENT_MULTIPLICATION', 'consistency', j, `${j}'s multiplication does not match its key share`);
      }
      Rsum = Rsum.add(Rj);
      psiSum = Fn.add(psiSum, psi);
      cross = { u: Fn.add(cross.u, Fn.add(p.cu!, du)), v: Fn.add(cross.v, Fn.add(p.cv!, dv)) };
    }
    if (Rsum.is0()) throw inputError('SIGN_RETRY', 'the instance keys add up to the identity; sign again');
    const rx = Fn.create(Rsum.toAffine().x);
    if (rx === 0n) throw inputError('SIGN_RETRY', 'x(R) is 0 mod n; sign again');
    const mask = Fn.add(secret.phi, psiSum);
    const u = Fn.add(Fn.mul(secret.r, mask), cross.u);
    const v = Fn.add(Fn.mul(secret.sk, mask), cross.v);
    const w = Fn.add(Fn.mul(digestScalar(message), secret.phi), Fn.mul(rx, v));
    Rtotal = Rsum;
    return { broadcast: { u: encScalar(u), w: encScalar(w) } };
  }

  function aggregate(got: RoundIn): string {
    let u = Fn.ZERO;
    let w = Fn.ZERO;
    for (const k of signers) {
      const b = got.broadcast[k] as { u?: unknown; w?: unknown } | undefined;
      const bad = () => malformed(k, 'signing round-3 broadcast');
      u = Fn.add(u, scalar(b?.u, bad));
      w = Fn.add(w, scalar(b?.w, bad));
    }
    const culprit = others.length === 1 ? others[0]! : 'unknown';
    const invalid = () => blame('PROTOCOL_INVALID_SIGNATURE', culprit, `the combined signature does not verify; ${others.length === 1 ? culprit : `one of ${others.join(', ')}`} sent a wrong round-3 share`, { suspects: others });
    if (u === 0n) throw invalid();
    const { x, y } = Rtotal!.toAffine();
    let s = Fn.div(w, u);
    let recovery = Number(y & 1n) | (x >= Fn.ORDER ? 2 : 0);
    // Low s (BIP-62 / EIP-2): s and n − s both verify; flipping s mirrors R, so the parity flips too.
    if (s > Fn.ORDER >> 1n) {
      s = Fn.neg(s);
      recovery ^= 1;
    }
    const compact = Uint8Array.from([...numberBytes(Fn.create(x)), ...numberBytes(s)]);
    if (!secp256k1.verify(compact, message, groupKey.toBytes(), { prehash: false, lowS: true })) throw invalid();
    return hex(compact) + recovery.toString(16).padStart(2, '0');
  }
}

function commit(sid: string, party: string, R: P, salt: Uint8Array): Uint8Array {
  return tagged('sign/commit', [sid, party, R.toBytes(true), salt]);
}

function banned(code: ProtocolCode, check: BanCheck, party: string, message: string): KeyriteError {
  return blame(code, party, message, { ban: check });
}

function randomScalar(rng: Rng): bigint {
  for (;;) {
    const k = Fn.create(bytesToNumberBE(rng(48)));
    if (k !== 0n) return k;
  }
}

const numberBytes = (n: bigint): Uint8Array => Fn.toBytes(n);

/** The digest as an integer mod n (SEC 1 §4.1.3 step 5, for a 256-bit digest and a 256-bit n). */
const digestScalar = (digest: Uint8Array): bigint => Fn.create(bytesToNumberBE(digest));

function checkSigners(o: EcdsaSignOptions): void {
  const { share, signers, message } = o;
  if (message.length !== 32) throw inputError('BAD_MESSAGE', `ecdsa signs a 32-byte digest; got ${message.length} bytes`);
  const unknown = signers.filter((s) => !share.parties.includes(s));
  if (unknown.length) throw inputError('BAD_SIGNER_SET', `signers ${unknown.join(', ')} do not hold shares of key ${share.keyId}`);
  if (new Set(signers).size !== signers.length) throw inputError('BAD_SIGNER_SET', 'a signer is listed twice');
  if (signers.length < share.threshold) throw inputError('BELOW_THRESHOLD', `${signers.length} signers cannot sign for a ${share.threshold}-of-${share.parties.length} key`);
  if (!signers.includes(share.party)) throw inputError('BAD_SIGNER_SET', `${share.party} is not in the signer set`);
  const ban = signers.find((s) => o.banned?.includes(s));
  if (ban) throw inputError('SIGNER_BANNED', `${ban} failed a consistency check in an earlier signing run with key ${share.keyId}; it may not sign again until the key is refreshed`, { party: ban });
}
