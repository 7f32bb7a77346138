import { newAgeIdentity } from '../../src/base/age.js';
import { newSigningKey } from '../../src/base/ed25519.js';
import { BROADCAST, type Envelope } from '../../src/engine/envelope.js';
import type { Member, PartyKeys, ProtocolParty, Roster } from '../../src/engine/protocol.js';

// In-memory driver: runs a set of parties to completion by passing envelopes between them in
// rounds. Tests use it; the node layer does the same one round at a time over its transport.

/** Delivers one envelope to one recipient; tests replace it to drop, alter or replay messages. */
export type Transport = (env: Envelope, to: string) => unknown[] | Promise<unknown[]>;
const honest: Transport = (env) => [env];

export async function runParties<Out>(parties: ProtocolParty<Out>[], transport: Transport = honest): Promise<Record<string, Out | null>> {
  const names = parties.map((p) => p.name);
  try {
    let outgoing: Envelope[] = [];
    for (const p of parties) outgoing.push(...(await p.start()));
    while (parties.some((p) => p.expecting !== 'done')) {
      const inbox = new Map<string, unknown[]>(names.map((n) => [n, []]));
      for (const env of outgoing) {
        const recipients = env.to === BROADCAST ? names.filter((n) => n !== env.from) : [env.to];
        for (const to of recipients) inbox.get(to)?.push(...(await transport(env, to)));
      }
      outgoing = [];
      for (const p of parties) if (p.expecting !== 'done') outgoing.push(...(await p.receive(inbox.get(p.name)!)));
    }
  } catch (e) {
    // One party's abort ends the run for all: nobody keeps a share from it.
    for (const p of parties) p.abort();
    throw e;
  }
  return Object.fromEntries(parties.map((p) => [p.name, p.result()]));
}

/** Fresh Ed25519 and age keys for named parties, and the roster entries that go with them. */
export async function localIdentities(names: string[]): Promise<{ keys: Record<string, PartyKeys>; roster: Roster }> {
  const keys: Record<string, PartyKeys> = {};
  const roster: Record<string, Member> = {};
  for (const name of names) {
    const signingKey = newSigningKey();
    const age = await newAgeIdentity();
    keys[name] = { name, signingKey, ageIdentity: age.identity };
    roster[name] = { signingPublicKey: signingKey.publicKey, ageRecipient: age.recipient };
  }
  return { keys, roster };
}
