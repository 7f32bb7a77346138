import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyriteError, publicDetails, type ErrorCode } from '../base/errors.js';
import { parseShallowJson } from '../base/json.js';
import { checkName } from '../state/identity.js';
import type { Workspace } from '../fs/workspace.js';
import { sessionIdOf, type Envelope, type SessionParams } from '../engine/index.js';
import type { EntryDraft } from '../evidence/entry.js';
import { PROTOCOL_KINDS, type HandedIn, type NodeClient, type ProtocolKind, type StartInputs } from './client.js';
import { ReplayGuard } from './http-auth.js';
import { RUN_LIFETIME_MS } from './lifetime.js';
import { SigningNode, type NodeOptions } from './node.js';
import { checkHolding } from './store.js';

// `keyrite node serve`: one signing node behind HTTP on the loopback interface. Each POST carries
// one signed call of the NodeClient interface; the node object lives for the life of the process,
// so its protocol runs (and its refusal of a second signing run per key) span requests.
//
// Before anyone is authenticated, what a caller can cost the node is bounded (docs/ARCHITECTURE.md
// §2, "Over HTTP"): so many connections, so many request bodies in progress at once, each body
// no larger than its method needs (the method is in the URL, /rpc/<method>, so the limit is known
// before a byte of the body is read), headers and whole requests within a time limit, and JSON
// nested no deeper than a request ever is, checked before it is parsed. The caller's name, the
// node, the time and the nonce are checked before the signature, and a run can be aborted (or
// driven on) only by the caller who started it.

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** The limits a served node applies to every caller, authenticated or not. */
export const LIMITS = {
  connections: 64,
  /** Request bodies being read or handled at once; more are refused at once (NODE_OVERLOADED). */
  bodies: 8,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  /** Arrays and objects nested in a request; the deepest real one (a protocol envelope in a list) is well under. */
  depth: 16,
} as const;

const KIB = 1024;
/** The largest body each method takes: a signing start carries the message (at most 1 MiB, hex) and a share. */
const BODY_LIMITS: Record<string, number> = {
  holdings: 16 * KIB,
  abort: 16 * KIB,
  attest: 64 * KIB,
  keep: 64 * KIB,
  exportShard: 64 * KIB,
  deleteShare: 64 * KIB,
  start: 3 * KIB * KIB,
  receive: 4 * KIB * KIB,
};

// Each call's parameters are checked for shape here, before the node sees them; the node checks
// their meaning (sessions, requests, shares) itself.
type Params = Record<string, unknown>;
type Method = (node: NodeClient, p: Params) => Promise<unknown>;

function malformed(node: string, why: string): KeyriteError {
  return new KeyriteError('BAD_REQUEST', `node ${node} refuses the request: ${why}`, { node });
}

function sessionIdParam(node: string, p: Params): string {
  if (typeof p.sessionId !== 'string' || !/^[0-9a-f]{64}$/.test(p.sessionId)) throw malformed(node, 'its session id is not 64 hex digits');
  return p.sessionId;
}

function listParam<T>(node: string, value: unknown, what: string): T[] {
  if (!Array.isArray(value)) throw malformed(node, `${what} is not a list`);
  return value as T[];
}

function objectParam(node: string, value: unknown, what: string): Params {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(node, `${what} is missing`);
  return value as Params;
}

function draftParam(node: string, value: unknown): EntryDraft {
  const d = objectParam(node, value, 'its entry draft');
  const digest = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
  const ok = typeof d.ceremony === 'string' && Number.isSafeInteger(d.seq) && (d.prev === null || digest(d.prev)) && digest(d.roster) && digest(d.script);
  if (!ok) throw malformed(node, 'its entry draft is malformed');
  return d as unknown as EntryDraft;
}

function kindParam(node: string, value: unknown): ProtocolKind {
  if (!PROTOCOL_KINDS.includes(value as ProtocolKind)) throw malformed(node, `no protocol ${JSON.stringify(value)}; known: ${PROTOCOL_KINDS.join(', ')}`);
  return value as ProtocolKind;
}

// The shape of each protocol's inputs; the node checks their meaning.
const INPUTS: { [K in ProtocolKind]: (node: string, p: Params) => StartInputs[K] } = {
  dkg: () => ({}),
  sign: (node, p) => {
    objectParam(node, p.request, 'its signing request');
    if (typeof p.share !== 'string' || typeof p.message !== 'string' || !/^([0-9a-f]{2})*$/.test(p.message)) throw malformed(node, 'its share or message is malformed');
    return p as unknown as StartInputs['sign'];
  },
  refresh: (node, p) => handedIn(node, p, true) as StartInputs['refresh'],
  reshare: (node, p) => handedIn(node, p, false),
  repair: (node, p) => handedIn(node, p, false),
};

/** A share handed in with its request (both, or, where `required` is false, neither). */
function handedIn(node: string, p: Params, required: boolean): Partial<HandedIn> {
  if (!required && p.share === undefined && p.request === undefined) return {};
  objectParam(node, p.request, 'its custodian\'s request');
  if (typeof p.share !== 'string') throw malformed(node, 'its share is malformed');
  return p as unknown as HandedIn;
}

function start(n: NodeClient, p: Params): Promise<Envelope[]> {
  const kind = kindParam(n.id, p.kind);
  const session = objectParam(n.id, p.session, 'its session') as unknown as SessionParams;
  return n.start(kind, session, INPUTS[kind](n.id, objectParam(n.id, p.inputs, 'its inputs')));
}

const METHODS: Record<string, Method> = {
  holdings: (n) => n.holdings(),
  start,
  receive: (n, p) => n.receive(sessionIdParam(n.id, p), listParam<Envelope>(n.id, p.incoming, 'incoming')),
  keep: (n, p) => n.keep(sessionIdParam(n.id, p), draftParam(n.id, p.draft)),
  abort: (n, p) => n.abort(sessionIdParam(n.id, p)),
  exportShard: (n, p) => {
    if (typeof p.to !== 'string' || !p.to.startsWith('age1')) throw malformed(n.id, 'it names no age recipient to export to');
    return n.exportShard(checkHolding(p.holding, n.id), p.to, draftParam(n.id, p.draft));
  },
  deleteShare: (n, p) => n.deleteShare(checkHolding(p.holding, n.id), draftParam(n.id, p.draft)),
  attest: (n, p) => n.attest(draftParam(n.id, p.draft)),
};

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):([0-9]{1,5})$/.exec(value);
  const host = m?.[1]?.replace(/^\[|\]$/g, '');
  const port = Number(m?.[2]);
  if (!host || !Number.isInteger(port) || port > 65535) throw new KeyriteError('USAGE', `a listen address must be HOST:PORT, got "${value}"`);
  if (!LOOPBACK.has(host)) {
    throw new KeyriteError('NOT_LOOPBACK', `a node listens on the loopback interface only (127.0.0.1 or ::1), not ${host}; reach remote nodes through a tunnel you control`);
  }
  return { host, port };
}

class HttpRefusal extends KeyriteError {
  constructor(readonly status: number, code: ErrorCode, message: string) {
    super(code, message);
  }
}

/** The body, at most `max` bytes: refused as soon as it says or proves it is larger. */
function readBody(req: IncomingMessage, node: string, max: number): Promise<string> {
  const tooLarge = () => new HttpRefusal(413, 'TOO_LARGE', `node ${node} refuses the request: it is larger than the ${max} bytes this call takes`);
  if (Number(req.headers['content-length'] ?? 0) > max) return Promise.reject(tooLarge());
  return new Promise((done, fail) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        chunks.length = 0;
        fail(tooLarge());
        req.pause();
      } else chunks.push(c);
    });
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
    req.on('aborted', () => fail(new HttpRefusal(400, 'BAD_REQUEST', `node ${node}: the request was cut off`)));
  });
}

/**
 * Who started each run, by session id, so that only they may drive or abort it. Entries end with
 * the run (done, aborted) or, at the latest, once a run could no longer be alive.
 */
class Starters {
  private readonly by = new Map<string, { from: string; at: number }>();
  constructor(private readonly lifetimeMs: number) {}

  started(sessionId: string, from: string): void {
    this.by.set(sessionId, { from, at: Date.now() });
  }

  /** Refuses `from` for a run someone else started. */
  check(node: string, sessionId: string, from: string, call: string): void {
    for (const [id, s] of this.by) if (Date.now() - s.at > this.lifetimeMs) this.by.delete(id);
    const s = this.by.get(sessionId);
    if (s && s.from !== from) throw new KeyriteError('NOT_PERMITTED', `node ${node} refuses the request: ${from} may not ${call} the run of session ${sessionId}, which ${s.from} started`);
  }

  ended(sessionId: string): void {
    this.by.delete(sessionId);
  }
}

export interface Serving {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function serveNode(ws: Workspace, id: string, listen: { host: string; port: number }, o: NodeOptions = {}): Promise<Serving> {
  checkName(id, 'the node id');
  const node = await SigningNode.open(ws.requireExists(), id, o);
  const guard = new ReplayGuard(id);
  const starters = new Starters(o.runLifetimeMs ?? RUN_LIFETIME_MS);
  let bodies = 0;
  const server = createServer({ headersTimeout: LIMITS.headersTimeoutMs, requestTimeout: LIMITS.requestTimeoutMs, keepAliveTimeout: LIMITS.keepAliveTimeoutMs, connectionsCheckingInterval: 1_000 }, async (req, res) => {
    const reply = (status: number, body: unknown, close = false) => {
      res.writeHead(status, { 'content-type': 'application/json', ...(close ? { connection: 'close' } : {}) });
      // A refused body is not read on to its end: the connection goes once the answer is out.
      if (close) res.once('finish', () => req.socket.destroy());
      res.end(JSON.stringify(body));
    };
    const method = /^\/rpc\/([A-Za-z]{1,32})$/.exec(req.url ?? '')?.[1];
    if (req.method !== 'POST' || !method || !Object.hasOwn(METHODS, method)) {
      return reply(404, { ok: false, error: { code: 'NOT_FOUND', message: `node ${id}: POST /rpc/<method> only (${Object.keys(METHODS).join(', ')})` } }, true);
    }
    if (bodies >= LIMITS.bodies) {
      return reply(503, { ok: false, error: { code: 'NODE_OVERLOADED', message: `node ${id} has ${LIMITS.bodies} requests in progress already; try again` } }, true);
    }
    bodies++;
    try {
      let value: unknown;
      const text = await readBody(req, id, BODY_LIMITS[method]!);
      try {
        value = parseShallowJson(text, LIMITS.depth);
      } catch (e) {
        throw new HttpRefusal(400, 'BAD_REQUEST', `node ${id} refuses the request: it is not JSON, or ${(e as Error).message}`);
      }
      const q = guard.check(value, (await node.state()).requireRoster());
      if (q.method !== method) throw new KeyriteError('BAD_REQUEST', `node ${id} refuses the request: it was sent to /rpc/${method} but signed for ${q.method}`);
      const params = objectParam(id, q.params ?? {}, 'its parameters');
      const sessionId = method === 'receive' || method === 'abort' || method === 'keep' ? sessionIdParam(id, params) : undefined;
      if (sessionId) starters.check(id, sessionId, q.from, method);
      const result = await METHODS[method]!(node, params);
      if (method === 'start') starters.started(sessionIdOf(params.session as SessionParams), q.from);
      if (sessionId && (method !== 'receive' || (result as { done?: boolean }).done)) starters.ended(sessionId);
      reply(200, { ok: true, result: result ?? null });
    } catch (e) {
      const err = e instanceof KeyriteError ? e : new KeyriteError('INTERNAL', String((e as Error)?.message ?? e), { cause: e });
      const status = err instanceof HttpRefusal ? err.status : err.code === 'INTERNAL' ? 500 : 400;
      reply(status, { ok: false, error: { code: err.code, message: err.message, details: publicDetails(err) } }, err instanceof HttpRefusal);
    } finally {
      bodies--;
    }
  });
  server.maxConnections = LIMITS.connections;
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(listen.port, listen.host, () => done());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    server,
    url: `http://${host}:${a.port}`,
    close: () => new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    }),
  };
}
