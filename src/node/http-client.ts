import { isErrorCode, KeyriteError } from '../base/errors.js';
import { printable } from '../base/printable.js';
import type { Identity } from '../custody/identity.js';
import type { Envelope, SessionParams } from '../engine/index.js';
import type { EntryDraft } from '../evidence/entry.js';
import type { NodeClient, ProtocolKind, Recorded, RoundReply, StartInputs } from './client.js';
import { signNodeRequest } from './http-auth.js';
import type { Holding } from './store.js';

// A node reached over HTTP (`keyrite node serve`): each call is signed by the caller's identity.

export class HttpNode implements NodeClient {
  constructor(readonly id: string, private readonly url: string, private readonly caller: Identity) {}

  private async call<T>(method: string, params: unknown = null): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}/rpc/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(signNodeRequest(this.caller, this.id, method, params)),
      });
    } catch (e) {
      throw new KeyriteError('NODE_UNREACHABLE', `node ${this.id} at ${this.url} cannot be reached: ${(e as Error).message}`, { cause: e });
    }
    let body: { ok?: boolean; result?: T; error?: { code: string; message: string; details?: Record<string, unknown> } };
    try {
      body = (await res.json()) as typeof body;
    } catch (e) {
      throw new KeyriteError('NODE_FAILED', `node ${this.id} at ${this.url} gave no JSON answer (HTTP ${res.status})`, { cause: e });
    }
    if (!body.ok) throw remoteError(this.id, body.error);
    return body.result as T;
  }

  holdings = () => this.call<Holding[]>('holdings');
  start = <K extends ProtocolKind>(kind: K, session: SessionParams, inputs: StartInputs[K]) => this.call<Envelope[]>('start', { kind, session, inputs });
  receive = (sessionId: string, incoming: Envelope[]) => this.call<RoundReply>('receive', { sessionId, incoming });
  keep = (sessionId: string, draft: EntryDraft) => this.call<Recorded & { holding: Holding }>('keep', { sessionId, draft });
  abort = (sessionId: string) => this.call<void>('abort', { sessionId });
  exportShard = (holding: Holding, to: string, draft: EntryDraft) => this.call<Recorded & { custodian: string; shard: string }>('exportShard', { holding, to, draft });
  deleteShare = (holding: Holding, draft: EntryDraft) => this.call<Recorded>('deleteShare', { holding, draft });
  attest = (draft: EntryDraft) => this.call<Recorded & { holds: Holding[] }>('attest', { draft });
}

/**
 * A node's refusal as the caller's error (docs/ARCHITECTURE.md §5, "Blame"): its code only when
 * it is one of ours; its node the one called, whatever the answer says; its text escaped and
 * shown as that node's word. Any other party it names (as the party, the node, or the accused of
 * its accusation) is never the error's party: it goes with the accusation to the coordinator,
 * who judges it (claims.ts), since a node that names another makes a claim, not a finding.
 */
function remoteError(node: string, e: { code?: unknown; message?: unknown; details?: Record<string, unknown> } | undefined): KeyriteError {
  const code = typeof e?.code === 'string' && isErrorCode(e.code) ? e.code : 'NODE_FAILED';
  const message = typeof e?.message === 'string' ? `node ${node} says: ${printable(e.message)}` : `node ${node} failed`;
  const accusation = e?.details?.accusation;
  const against = (accusation as { against?: unknown } | null | undefined)?.against;
  const named = [e?.details?.party, e?.details?.node, against].find((v): v is string => typeof v === 'string' && v !== node);
  return new KeyriteError(code, message, { node, details: { ...(named === undefined ? {} : { accused: printable(named) }), ...(accusation === undefined ? {} : { accusation }) } });
}
