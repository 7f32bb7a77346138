import { BROADCAST, sessionIdOf, type Bench, type Envelope } from '../engine/index.js';
import { judged } from './claims.js';
import type { NodeClient } from './client.js';

// Carries one protocol run between nodes, round by round: each round's envelopes go to their
// recipients (a broadcast to everyone but its sender), and each node answers with its next
// round. Any node's failure aborts the run on every node, so no node keeps anything from it;
// what the failing node says of another party is judged first (claims.ts), against `bench`:
// the session run, its protocol and the roster's keys.

export async function drive(nodes: NodeClient[], bench: Bench, start: (n: NodeClient) => Promise<Envelope[]>): Promise<Record<string, unknown>> {
  const sessionId = sessionIdOf(bench.session);
  const outputs: Record<string, unknown> = {};
  const done = new Set<string>();
  let acting = '';
  try {
    let outgoing: Envelope[] = [];
    for (const n of nodes) {
      acting = n.id;
      outgoing.push(...(await start(n)));
    }
    while (done.size < nodes.length) {
      const inbox = new Map<string, Envelope[]>(nodes.map((n) => [n.id, []]));
      for (const env of outgoing) {
        const to = env.to === BROADCAST ? nodes.map((n) => n.id).filter((id) => id !== env.from) : [env.to];
        for (const id of to) inbox.get(id)?.push(env);
      }
      outgoing = [];
      for (const n of nodes.filter((x) => !done.has(x.id))) {
        acting = n.id;
        const reply = await n.receive(sessionId, inbox.get(n.id)!);
        outgoing.push(...reply.envelopes);
        if (reply.done) {
          done.add(n.id);
          outputs[n.id] = reply.output;
        }
      }
    }
  } catch (e) {
    await Promise.all(nodes.map((n) => n.abort(sessionId).catch(() => undefined)));
    throw judged(e, acting, bench);
  }
  return outputs;
}
