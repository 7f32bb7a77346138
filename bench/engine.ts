import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { digestOf } from '../src/base/canonical.js';
import { dkgParty, signParty, type Share } from '../src/engine/index.js';
import { localIdentities, runParties } from '../test/support/engine-run.js';

// DKG and signing times per engine (full authenticated in-memory runs: envelopes, signatures,
// age-sealed sub-shares), beside one single-key noble signature in the same process.

async function time<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

async function bench(engine: 'ed25519' | 'bip340', t: number, n: number, single: number, report = true): Promise<void> {
  const parties = Array.from({ length: n }, (_, i) => `node-${i + 1}`);
  const { keys, roster } = await localIdentities(parties);
  const base = { engine, t, n, participants: parties, ceremonyId: 'bench', rosterDigest: digestOf(roster) };
  const [dkgMs, shares] = await time(() => runParties(parties.map((p) => dkgParty({ session: { ...base, keyId: 'new', epoch: 0 }, keys: keys[p]!, roster }))));
  const signers = parties.slice(0, t);
  const share0 = shares[signers[0]!] as Share;
  const session = { ...base, keyId: share0.keyId, epoch: 1, participants: signers };
  const message = Uint8Array.from(randomBytes(32));
  const [signMs] = await time(() => runParties(signers.map((p) => signParty({ session, keys: keys[p]!, roster }, { share: shares[p] as Share, message }))));
  if (report) console.log(
    `${engine} ${t}-of-${n}: dkg ${dkgMs.toFixed(1)} ms (${(dkgMs / single).toFixed(0)}× single sign), ` +
      `sign ${signMs.toFixed(1)} ms (${(signMs / single).toFixed(0)}× single sign; single ${single.toFixed(2)} ms)`,
  );
}

async function singleSign(engine: 'ed25519' | 'bip340'): Promise<number> {
  const msg = Uint8Array.from(randomBytes(32));
  const sk = engine === 'ed25519' ? ed25519.utils.randomSecretKey() : schnorr.utils.randomSecretKey();
  const sign = () => (engine === 'ed25519' ? ed25519.sign(msg, sk) : schnorr.sign(msg, sk));
  for (let i = 0; i < 20; i++) sign(); // warm up
  const runs = 200;
  const [ms] = await time(() => {
    for (let i = 0; i < runs; i++) sign();
  });
  return ms / runs;
}

export async function run(): Promise<void> {
  // One untimed run per engine first, so the figures are not dominated by JIT warm-up.
  for (const engine of ['ed25519', 'bip340'] as const) await bench(engine, 2, 3, Number.NaN, false);
  for (const engine of ['ed25519', 'bip340'] as const) {
    const single = await singleSign(engine);
    for (const [t, n] of [[2, 3], [5, 7]] as const) await bench(engine, t, n, single);
  }
}
