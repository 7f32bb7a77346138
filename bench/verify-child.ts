import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { verifyTranscripts } from '../src/audit/verify.js';
import { ceremonyFiles } from '../src/evidence/chain.js';

// A child process of bench/audit.ts, so that its peak memory (maxRSS) is the verification's own:
//   verify-child.ts keyrite ROOT   audit verify's streaming verifier over ROOT's transcripts
//   verify-child.ts raw N          N node:crypto Ed25519 verifications of a 1,200-byte message
// Prints one JSON line: { entries, ms, maxRssKiB }.

async function keyrite(root: string): Promise<{ entries: number; ms: number }> {
  const files = ceremonyFiles(join(root, 'transcripts'));
  await verifyTranscripts({ files: files.slice(0, 2), root }); // warm-up: JIT, script loading
  const t0 = performance.now();
  const r = await verifyTranscripts({ files, root });
  const took = performance.now() - t0;
  if (!r.ok) throw new Error(`bench transcript does not verify: ${JSON.stringify(r.failures.slice(0, 3))}`);
  return { entries: r.entries, ms: took };
}

function raw(n: number): { entries: number; ms: number } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const message = randomBytes(1200);
  const sig = sign(null, message, privateKey);
  for (let i = 0; i < 200; i++) verify(null, message, publicKey, sig);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) if (!verify(null, message, publicKey, sig)) throw new Error('raw verify failed');
  return { entries: n, ms: performance.now() - t0 };
}

const [mode, arg] = process.argv.slice(2);
const out = mode === 'keyrite' ? await keyrite(arg!) : raw(Number(arg));
console.log(JSON.stringify({ ...out, maxRssKiB: process.resourceUsage().maxRSS }));
