import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { digestOf } from '../src/base/canonical.js';
import { dkgParty, getEngine, sessionIdOf, signParty, type MultiRounds, type RoundIn, type Share } from '../src/engine/index.js';
import { localIdentities, runParties } from '../test/support/engine-run.js';

// The ecdsa engine (DKLs23) in full authenticated in-memory runs — envelopes, Ed25519 signatures,
// age-sealed point-to-point payloads, all parties in this one process — beside one single-key
// noble ECDSA signature. Targets (issue 12): 2-of-3 sign ≤ 150 ms, keygen ≤ 10 s.
// Run: node --import tsx bench/ecdsa.ts

// Wall time, and this process's CPU time (user + system): on a shared machine the CPU figure
// is the steadier one.
let cpuMs = 0;
async function time<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await fn();
  const c = process.cpuUsage(c0);
  cpuMs = (c.user + c.system) / 1000;
  return [performance.now() - t0, out];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// The DKLs23 rounds alone, messages passed in memory: no envelopes, Ed25519 or age. The gap to
// the authenticated run is the cost of docs/ARCHITECTURE.md §5's signed and sealed messages.
function engineOnly(shares: Share[], message: Uint8Array, sessionId: string): string {
  const signers = shares.map((s) => s.party);
  const rounds = shares.map((share) => getEngine('ecdsa').sign({ share, signers, message, sessionId }) as MultiRounds<string>);
  let inbox: Record<string, RoundIn> = Object.fromEntries(signers.map((p) => [p, { broadcast: {}, direct: {} }]));
  for (let k = 1; k <= 3; k++) {
    const next: Record<string, RoundIn> = Object.fromEntries(signers.map((p) => [p, { broadcast: {}, direct: {} }]));
    rounds.forEach((r) => {
      const out = r.send(k, inbox[r.me]!);
      for (const p of signers) if (out?.broadcast !== undefined) next[p]!.broadcast[r.me] = out.broadcast;
      for (const [to, body] of Object.entries(out?.direct ?? {})) next[to]!.direct[r.me] = body;
    });
    inbox = next;
  }
  const sigs = rounds.map((r) => r.finish(inbox[r.me]!));
  return sigs[0]!;
}

async function bench(t: number, n: number, single: number, signRuns: number, report = true): Promise<void> {
  const parties = Array.from({ length: n }, (_, i) => `node-${i + 1}`);
  const { keys, roster } = await localIdentities(parties);
  const base = { engine: 'ecdsa', t, n, participants: parties, ceremonyId: `bench-${t}-${n}`, rosterDigest: digestOf(roster) };
  const [dkgMs, shares] = await time(() => runParties(parties.map((p) => dkgParty({ session: { ...base, keyId: 'new', epoch: 0 }, keys: keys[p]!, roster }))));
  const dkgCpu = cpuMs;
  const signers = parties.slice(0, t);
  const share0 = shares[signers[0]!] as Share;
  const full: number[] = [];
  const fullCpu: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < signRuns; i++) {
    const session = { ...base, keyId: share0.keyId, epoch: 1, participants: signers, ceremonyId: `bench-sign-${i}` };
    const message = Uint8Array.from(randomBytes(32));
    full.push((await time(() => runParties(signers.map((p) => signParty({ session, keys: keys[p]!, roster }, { share: shares[p] as Share, message })))))[0]);
    fullCpu.push(cpuMs);
    bare.push((await time(() => engineOnly(signers.map((p) => shares[p] as Share), message, sessionIdOf({ ...session, ceremonyId: `bare-${i}` }))))[0]);
  }
  if (report) {
    const signMs = median(full);
    console.log(
      `ecdsa ${t}-of-${n}: keygen ${dkgMs.toFixed(0)} ms (cpu ${dkgCpu.toFixed(0)}); sign ${signMs.toFixed(1)} ms (cpu ${median(fullCpu).toFixed(1)}) authenticated ` +
        `(${(signMs / single).toFixed(0)}× one noble ECDSA sign of ${single.toFixed(2)} ms), ${median(bare).toFixed(1)} ms DKLs23 rounds alone; ` +
        `median of ${signRuns}, all ${t} signers in this one process`,
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
  await bench(2, 3, single, 7);
  await bench(3, 5, single, 3);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
