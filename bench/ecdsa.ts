import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { digestOf } from '../src/canonical.js';
import { dkgParty, localIdentities, runParties, signParty, type Share } from '../src/engine/index.js';

// The ecdsa engine (DKLs23) in full authenticated in-memory runs — envelopes, Ed25519 signatures,
// age-sealed point-to-point payloads, all parties in this one process — beside one single-key
// noble ECDSA signature. Targets (issue 12): 2-of-3 sign ≤ 150 ms, keygen ≤ 10 s.
// Run: node --import tsx bench/ecdsa.ts

async function time<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

async function bench(t: number, n: number, single: number, signRuns: number, report = true): Promise<void> {
  const parties = Array.from({ length: n }, (_, i) => `node-${i + 1}`);
  const { keys, roster } = await localIdentities(parties);
  const base = { engine: 'ecdsa', t, n, participants: parties, ceremonyId: `bench-${t}-${n}`, rosterDigest: digestOf(roster) };
  const [dkgMs, shares] = await time(() => runParties(parties.map((p) => dkgParty({ session: { ...base, keyId: 'new', epoch: 0 }, keys: keys[p]!, roster }))));
  const signers = parties.slice(0, t);
  const share0 = shares[signers[0]!] as Share;
  let total = 0;
  for (let i = 0; i < signRuns; i++) {
    const session = { ...base, keyId: share0.keyId, epoch: 1, participants: signers, ceremonyId: `bench-sign-${i}` };
    const message = Uint8Array.from(randomBytes(32));
    const [ms] = await time(() => runParties(signers.map((p) => signParty({ session, keys: keys[p]!, roster }, { share: shares[p] as Share, message }))));
    total += ms;
  }
  const signMs = total / signRuns;
  if (report) {
    console.log(
      `ecdsa ${t}-of-${n}: keygen ${dkgMs.toFixed(0)} ms, sign ${signMs.toFixed(1)} ms ` +
        `(${(signMs / single).toFixed(0)}× one noble ECDSA sign of ${single.toFixed(2)} ms; mean of ${signRuns})`,
    );
  }
}

function singleSign(): number {
  const digest = Uint8Array.from(randomBytes(32));
  const sk = secp256k1.utils.randomSecretKey();
  for (let i = 0; i < 20; i++) secp256k1.sign(digest, sk, { prehash: false });
  const runs = 200;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) secp256k1.sign(digest, sk, { prehash: false });
  return (performance.now() - t0) / runs;
}

export async function run(): Promise<void> {
  await bench(2, 3, Number.NaN, 1, false); // warm-up, untimed
  const single = singleSign();
  await bench(2, 3, single, 5);
  await bench(3, 5, single, 3);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
