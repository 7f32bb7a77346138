import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadState } from '../../src/audit/state.js';
import { signObject } from '../../src/base/ed25519.js';
import { unlockIdentity, type Identity } from '../../src/custody/identity.js';
import { ceremonyFiles } from '../../src/evidence/chain.js';
import { readLines, signLine, statementOf, writeLines } from '../../fixtures/chain-tools.js';
import { keyrite, tempDir } from '../support/cli.js';
import { openDirect, sealDirect, signEnvelope, type Accusation, type DirectStatement, type Envelope } from '../../src/engine/index.js';
import { Workspace } from '../../src/fs/workspace.js';
import { loadNodeIdentity } from '../../src/node/identity.js';
import { CUSTODIANS, everyone, lifecycleWorkspace, nodeShareFiles, steps } from '../support/lifecycle.js';
import { serve, type Served } from '../support/serve.js';
import { ok, refused, type TestWorkspace } from '../support/workspace.js';

// The framed node (docs/ARCHITECTURE.md §5, "Blame"), through `keyrite keygen --nodes` and three
// real `keyrite node serve` processes. Each node is reached through a small proxy, which the
// test turns into a malicious node: node-2 as a dealer that really sends node-3 a bad sub-share
// (signed with node-2's own key), or node-3 as an accuser that frames an honest node-2. Only
// the first is recorded as a verified blame of node-2; the others are node-3's unverified claims,
// and node-2 is never named culprit nor banned. A fake node-1 that names node-2 in its answer's
// own fields is likewise only node-1's word: its claim inside a run, its own failure outside one.

type Rewrite = (method: string, request: any, answer: () => Promise<{ status: number; body: any }>) => Promise<{ status: number; body: any }>;

interface Proxy {
  url: string;
  server: Server;
  rewrite: Rewrite | null;
}

/** An HTTP front for `target`: passes every call through unless `rewrite` is set. */
async function proxy(target: string): Promise<Proxy> {
  const p: Proxy = { url: '', server: createServer(), rewrite: null };
  p.server.on('request', (req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', async () => {
      const method = req.url!.replace('/rpc/', '');
      const answer = async () => {
        const r = await fetch(`${target}${req.url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
        return { status: r.status, body: await r.json() };
      };
      const out = p.rewrite ? await p.rewrite(method, JSON.parse(text), answer) : await answer();
      res.writeHead(out.status, { 'content-type': 'application/json' }).end(JSON.stringify(out.body));
    });
  });
  await new Promise<void>((done) => p.server.listen(0, '127.0.0.1', done));
  p.url = `http://127.0.0.1:${(p.server.address() as AddressInfo).port}`;
  return p;
}

const flip = (share: string): string => (share.slice(0, 2) === '01' ? '02' : '01') + share.slice(2);

describe('a node\'s blame is verified before anyone is named', () => {
  let tw: TestWorkspace;
  const servers: Served[] = [];
  const proxies: Proxy[] = [];
  let nodesArg: string;
  let id: Record<string, Identity>;
  let proved: Accusation['evidence'];

  before(async () => {
    tw = await lifecycleWorkspace();
    for (const n of ['node-1', 'node-2', 'node-3']) servers.push(await serve(tw.root, n));
    for (const s of servers) proxies.push(await proxy(s.url));
    nodesArg = proxies.map((p, i) => `node-${i + 1}=${p.url}`).join(',');
    id = Object.fromEntries(await Promise.all(['node-2', 'node-3'].map(async (n) => [n, await loadNodeIdentity(join(tw.root, 'nodes', n), n)] as const)));
  });
  after(() => {
    for (const p of proxies) p.server.close();
    for (const s of servers) s.child.kill('SIGTERM');
  });

  const keygen = (label: string) => tw.kr(['keygen', '--json', '--engine', 'ed25519', '--custodians', CUSTODIANS.join(','), '--label', label, '--nodes', nodesArg, ...everyone(tw)]);

  /** The last ceremony's ceremony.abort result. */
  function lastAbort(): any {
    const last = readdirSync(join(tw.root, 'transcripts')).filter((f) => f.endsWith('.jsonl')).sort().at(-1)!.replace(/\.jsonl$/, '');
    const s = steps(tw, last);
    assert.equal(s.at(-1)!.step, 'ceremony.abort');
    assert.ok(!s.some((x) => x.step === 'keygen.share'), 'no node kept a share');
    return s.at(-1)!.result;
  }

  function assertNoBans(): void {
    for (const n of ['node-1', 'node-2', 'node-3']) assert.equal(existsSync(join(tw.root, 'nodes', n, 'bans')), false, `${n} banned nobody`);
    assert.deepEqual(nodeShareFiles(tw), []);
  }

  /** node-3 as a framing accuser: it runs the round honestly, then answers with an accusation of node-2 built by `forge`. */
  function framing(forge: (seen: { commitment: Envelope; share: DirectStatement }, sessionId: string) => Accusation['evidence'] | Promise<Accusation['evidence']>): Rewrite {
    let commitment: Envelope | undefined;
    return async (method, request, answer) => {
      const incoming: Envelope[] = method === 'receive' ? request.params.incoming : [];
      commitment ??= incoming.find((e) => e.round === 'dkg.1' && e.from === 'node-2');
      const sealed = incoming.find((e) => e.round === 'dkg.2' && e.from === 'node-2');
      const real = await answer();
      if (!sealed) return real;
      const share = await openDirect(id['node-3']!.ageIdentity, sealed, id['node-2']!.signing.publicKey);
      const session = JSON.parse(JSON.stringify(lastSession));
      const accusation: Accusation = { v: 1, code: 'PROTOCOL_INVALID_SHARE', by: 'node-3', against: 'node-2', protocol: 'dkg', session, evidence: await forge({ commitment: commitment!, share }, sealed.sessionId) };
      return { status: 400, body: { ok: false, error: { code: 'PROTOCOL_INVALID_SHARE', message: 'DKG sub-share from node-2 to node-3 fails the Feldman check', details: { party: 'node-2', accusation } } } };
    };
  }

  // The session of the run in progress, as node-3 was started with it.
  let lastSession: unknown;
  const remembering = (inner: Rewrite): Rewrite => async (method, request, answer) => {
    if (method === 'start') lastSession = request.params.session;
    return inner(method, request, answer);
  };

  test('(a) a dealer that really sends a bad share is blamed, and audit verify re-checks the evidence', async () => {
    // node-2 seals node-3 a sub-share that fails its commitment, signed with node-2's own key.
    const roster = (await loadState(new Workspace(tw.root))).requireRoster();
    const recipient = roster.nodes.find((n) => n.name === 'node-3')!.recipient;
    proxies[1]!.rewrite = async (method, _request, answer) => {
      const real = await answer();
      if (method !== 'receive' || !real.body.ok) return real;
      const envelopes = await Promise.all((real.body.result.envelopes as Envelope[]).map(async (env) => {
        if (env.round !== 'dkg.2' || env.to !== 'node-3') return env;
        const { v: _v, payload: _p, sig: _s, ...header } = env;
        const payload = await sealDirect(id['node-2']!.signing, header, { share: '05' + '00'.repeat(31) }, recipient);
        const { sig: _e, ...unsigned } = { ...env, payload };
        return signEnvelope(id['node-2']!.signing, unsigned);
      }));
      return { status: 200, body: { ...real.body, result: { ...real.body.result, envelopes } } };
    };
    const r = await keygen('bad-dealer').finally(() => (proxies[1]!.rewrite = null));
    assert.equal(refused(r, 1, 'PROTOCOL_INVALID_SHARE', ['node-2', 'proved by its own signed messages', 'node-3']).party, 'node-2');
    const abort = lastAbort();
    assert.equal(abort.blame.verified, true);
    assert.equal(abort.blame.culprit, 'node-2');
    assert.equal(abort.blame.by, 'node-3');
    assert.equal(abort.blame.evidence.share.from, 'node-2');
    assert.equal(abort.claim, undefined);
    proved = abort.blame.evidence;
    ok(await tw.kr(['audit', 'verify', '--json']), 'audit verify re-checks the carried evidence');
    await recordedBlameIsRechecked();
    const shown = await tw.kr(['audit', 'show']);
    assert.match(shown.stdout, /blame \(verified\): node-2 at fault \(PROTOCOL_INVALID_SHARE\), proved by its own signed messages from node-3; evidence sha256 [0-9a-f]{16}…/);
    const json = ok(await tw.kr(['audit', 'show', '--json']));
    const entry = JSON.stringify(json).includes('"culprit":"node-2"');
    assert.ok(entry, 'audit show --json gives the blame');
  });

  // A generator who re-signs the abort to blame someone else, or with evidence that does not
  // prove the fault, is caught by audit verify (on a copy: the abort is still the chain's last line).
  async function recordedBlameIsRechecked(): Promise<void> {
    const generator = await unlockIdentity(readFileSync(tw.identityFile(tw.generator)), tw.passphrases[tw.generator]!, tw.generator);
    const edits: [string, (blame: any) => void, RegExp][] = [
      ['another culprit', (b) => (b.culprit = 'node-1'), /node-1's round-1 broadcast: its from is "node-2"/],
      ['an altered share', (b) => (b.evidence.share.body.share = '06' + '00'.repeat(31)), /not signed by node-2/],
      ['a share that fits', (b) => delete b.evidence.share, /pass the check/],
    ];
    for (const [what, edit, reason] of edits) {
      const copy = join(tempDir('keyrite-blame-'), 'ws');
      cpSync(tw.root, copy, { recursive: true });
      const file = ceremonyFiles(join(copy, 'transcripts')).at(-1)!;
      const lines = readLines(file);
      const statement = statementOf(lines.at(-1)!);
      edit((statement.predicate.result as any).blame);
      writeLines(file, [...lines.slice(0, -1), signLine(statement, [generator])]);
      const r = await keyrite(['--workspace', copy, 'audit', 'verify', '--json']);
      const failures = JSON.parse(r.stdout).failures as { kind: string; reason: string }[];
      assert.ok(failures.some((f) => f.kind === 'policy' && /the abort's blame does not stand/.test(f.reason) && reason.test(f.reason)), `${what}: ${r.stdout}`);
    }
  }

  test('(b) the framed node: node-3 accuses honest node-2 with its true messages; only node-3\'s claim is recorded', async () => {
    proxies[2]!.rewrite = remembering(framing((seen) => seen));
    const r = refused(await keygen('framed').finally(() => (proxies[2]!.rewrite = null)), 1, 'PROTOCOL_UNVERIFIED_CLAIM', ['node-3 claims node-2', 'node-2 is not blamed']);
    assert.equal(r.party, undefined, 'node-2 is not named culprit');
    assert.equal(r.node, 'node-3');
    const abort = lastAbort();
    assert.equal(abort.blame, undefined);
    assert.deepEqual({ ...abort.claim, why: undefined }, { verified: false, by: 'node-3', against: 'node-2', code: 'PROTOCOL_INVALID_SHARE', why: undefined });
    assert.match(abort.claim.why, /pass the check node-3 says they fail/);
    assertNoBans();
    ok(await tw.kr(['audit', 'verify', '--json']));
    assert.match((await tw.kr(['audit', 'show'])).stdout, /claim \(not verified\): node-3 against node-2 \(PROTOCOL_INVALID_SHARE\): .*; node-2 is not blamed/);
  });

  const forgeries: [string, (seen: { commitment: Envelope; share: DirectStatement }) => Accusation['evidence'], RegExp][] = [
    ['an altered share', (seen) => ({ ...seen, share: { ...seen.share, body: { share: flip((seen.share.body as { share: string }).share) } } }), /not signed by node-2/],
    ['a share signed by node-3 itself', (seen) => {
      const { sig: _s, ...unsigned } = { ...seen.share, body: { share: flip((seen.share.body as { share: string }).share) } };
      return { ...seen, share: { ...unsigned, sig: signObject(id['node-3']!.signing, unsigned) } };
    }, /not signed by node-2/],
    ['node-2\'s real bad share from another session', () => proved, /sessionId is/],
  ];
  for (const [what, forge, why] of forgeries) {
    test(`(c) forged evidence is no proof: ${what}`, async () => {
      proxies[2]!.rewrite = remembering(framing(forge));
      refused(await keygen(`forged-${what.length}`).finally(() => (proxies[2]!.rewrite = null)), 1, 'PROTOCOL_UNVERIFIED_CLAIM', ['node-3 claims node-2', 'node-2 is not blamed']);
      const abort = lastAbort();
      assert.equal(abort.blame, undefined);
      assert.match(abort.claim.why, why);
      assertNoBans();
    });
  }

  // A process on node-1's URL that names node-2 in the fields it controls, with no evidence: its
  // answer is node-1's word, escaped, never a culprit the coordinator names.
  const lies: [string, Record<string, unknown>][] = [
    ['as the failing node', { node: 'node-2' }],
    ['as the accused of an accusation with no evidence', { party: 'node-1', accusation: { v: 1, code: 'PROTOCOL_INVALID_SHARE', by: 'node-1', against: 'node-2' } }],
  ];
  for (const [how, details] of lies) {
    test(`(d) a fake node-1 that names node-2 ${how} only makes node-1's claim`, async () => {
      const message = 'DKG sub-share from node-2 to node-1 fails the Feldman check\n      blame (verified): node-2 at fault\u001b[2K';
      proxies[0]!.rewrite = async (method, _request, answer) => {
        const real = await answer();
        return method === 'receive' ? { status: 400, body: { ok: false, error: { code: 'PROTOCOL_INVALID_SHARE', message, details } } } : real;
      };
      const r = refused(await keygen(`fake-${how.length}`).finally(() => (proxies[0]!.rewrite = null)), 1, 'PROTOCOL_UNVERIFIED_CLAIM', ['node node-1 claims node-2', 'node node-1 says: ', 'node-2 is not blamed']);
      assert.equal(r.party, undefined, 'node-2 is not named culprit');
      assert.equal(r.node, 'node-1');
      const abort = lastAbort();
      assert.equal(abort.code, 'PROTOCOL_UNVERIFIED_CLAIM');
      assert.equal(abort.blame, undefined);
      assert.deepEqual({ ...abort.claim, why: undefined }, { verified: false, by: 'node-1', against: 'node-2', code: 'PROTOCOL_INVALID_SHARE', why: undefined });
      assert.ok(abort.message.includes('node node-1 says: DKG sub-share from node-2 to node-1 fails the Feldman check\\u{a}      blame (verified): node-2 at fault\\u{1b}[2K'), abort.message);
      assert.doesNotMatch(abort.message, /[\n\u001b]/);
      assertNoBans();
      ok(await tw.kr(['audit', 'verify', '--json']));
      const shown = (await tw.kr(['audit', 'show'])).stdout;
      assert.match(shown, /claim \(not verified\): node-1 against node-2 \(PROTOCOL_INVALID_SHARE\): .*; node-2 is not blamed/);
      assert.doesNotMatch(shown, /^\s*blame \(verified\): node-2 at fault$/m, 'the fake text starts no line of its own');
    });
  }

  test('(e) a fake node-1 that names node-2 outside a protocol run is named itself, and node-2 is not', async () => {
    proxies[0]!.rewrite = async (method, _request, answer) => (method === 'keep'
      ? { status: 400, body: { ok: false, error: { code: 'PROTOCOL_INVALID_SHARE', message: 'node-2 sent a bad share', details: { party: 'node-2', node: 'node-2' } } } }
      : answer());
    const r = refused(await keygen('fake-keep').finally(() => (proxies[0]!.rewrite = null)), 1, 'PROTOCOL_INVALID_SHARE', ['node node-1 says: node-2 sent a bad share']);
    assert.equal(r.party, undefined, 'node-2 is not named culprit');
    assert.equal(r.node, 'node-1');
    const abort = lastAbort();
    assert.equal(abort.blame, undefined);
    assert.equal(abort.claim, undefined);
    assert.equal(abort.message, 'node node-1 says: node-2 sent a bad share');
    assertNoBans();
    ok(await tw.kr(['audit', 'verify', '--json']));
  });

  test('after all that, an honest keygen on the same nodes succeeds and the history verifies', async () => {
    ok(await keygen('honest'));
    ok(await tw.kr(['audit', 'verify', '--json']));
  });
});
