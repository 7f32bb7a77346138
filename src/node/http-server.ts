import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyriteError, publicDetails } from '../base/errors.js';
import type { Workspace } from '../fs/workspace.js';
import type { Envelope, SessionParams } from '../engine/index.js';
import type { EntryDraft } from '../evidence/entry.js';
import { PROTOCOL_KINDS, type NodeClient, type ProtocolKind, type StartInputs } from './client.js';
import { ReplayGuard } from './http-auth.js';
import { SigningNode, type NodeOptions } from './node.js';
import { checkHolding } from './store.js';

// `keyrite node serve`: one signing node behind HTTP on the loopback interface. Each POST carries
// one signed call of the NodeClient interface; the node object lives for the life of the process,
// so its protocol runs (and its refusal of a second signing run per key) span requests.

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const MAX_BODY = 4 * 1024 * 1024;

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
};

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
  exportShard: (n, p) => n.exportShard(checkHolding(p.holding, n.id), draftParam(n.id, p.draft)),
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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        fail(new KeyriteError('BAD_REQUEST', 'request too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

export interface Serving {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function serveNode(ws: Workspace, id: string, listen: { host: string; port: number }, o: NodeOptions = {}): Promise<Serving> {
  const node = await SigningNode.open(ws.requireExists(), id, o);
  const guard = new ReplayGuard(id);
  const server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.method !== 'POST' || req.url !== '/rpc') return reply(404, { ok: false, error: { code: 'NOT_FOUND', message: 'POST /rpc only' } });
      let value: unknown;
      try {
        value = JSON.parse(await readBody(req));
      } catch (e) {
        throw e instanceof KeyriteError ? e : new KeyriteError('BAD_REQUEST', 'the request is not JSON', { cause: e });
      }
      const q = guard.check(value, (await node.state()).requireRoster());
      const method = METHODS[q.method];
      if (!method) throw new KeyriteError('BAD_REQUEST', `no method ${q.method}`);
      reply(200, { ok: true, result: (await method(node, objectParam(id, q.params ?? {}, 'its parameters'))) ?? null });
    } catch (e) {
      const err = e instanceof KeyriteError ? e : new KeyriteError('INTERNAL', String((e as Error)?.message ?? e), { cause: e });
      reply(err.code === 'INTERNAL' ? 500 : 400, { ok: false, error: { code: err.code, message: err.message, details: publicDetails(err) } });
    }
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(listen.port, listen.host, () => done());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    server,
    url: `http://${host}:${a.port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
