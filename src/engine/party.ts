import { inputError } from './blame.js';
import { sessionIdOf, type SessionParams } from './envelope.js';
import { ProtocolParty, type PartyKeys, type Roster } from './protocol.js';
import { getEngine } from './registry.js';
import type { AnyEngine, PublicPackage, Rng, Share } from './types.js';

// Builds one party's authenticated run from a session description, after checking that the
// session matches the share or key package it is run on: the place where a node refuses a
// session for another key, epoch or holder set before doing any work.

export type PartySetup = { session: SessionParams; keys: PartyKeys; roster: Roster };

export function dkgParty(s: PartySetup, o: { rng?: Rng } = {}): ProtocolParty<Share> {
  const { session } = s;
  expect(session.keyId === 'new' && session.epoch === 0, 'a DKG session has key id "new" and epoch 0');
  expect(session.n === session.participants.length, `session n=${session.n} but ${session.participants.length} participants`);
  const rounds = engineOf(session).dkg({ me: s.keys.name, parties: session.participants, threshold: session.t, rng: o.rng, sessionId: sessionIdOf(session) });
  return new ProtocolParty(session, s.keys, s.roster, rounds);
}

/** `banned`: parties the node has recorded as failing an ecdsa consistency check at this epoch. */
export function signParty(s: PartySetup, o: { share: Share; message: Uint8Array; rng?: Rng; banned?: readonly string[] }): ProtocolParty<string> {
  checkKey(s.session, o.share, s.keys.name);
  const rounds = engineOf(s.session).sign({ share: o.share, signers: s.session.participants, message: o.message, rng: o.rng, sessionId: sessionIdOf(s.session), banned: o.banned });
  return new ProtocolParty(s.session, s.keys, s.roster, rounds);
}

export function refreshParty(s: PartySetup, o: { share: Share; rng?: Rng }): ProtocolParty<Share> {
  checkKey(s.session, o.share, s.keys.name);
  expect(same(s.session.participants, o.share.parties), 'a refresh session must include every holder, in key order');
  return new ProtocolParty(s.session, s.keys, s.roster, engineOf(s.session).refresh({ share: o.share, rng: o.rng, sessionId: sessionIdOf(s.session) }));
}

export function reshareParty(s: PartySetup, o: { old: PublicPackage; share?: Share; rng?: Rng }): ProtocolParty<Share> {
  const { session } = s;
  checkKey(session, o.old);
  if (o.share) checkKey(session, o.share, s.keys.name);
  expect(session.n === session.participants.length, `session n=${session.n} but ${session.participants.length} new holders`);
  const rounds = engineOf(session).reshare({
    me: s.keys.name, old: o.old, share: o.share, dealers: session.dealers ?? [], holders: session.participants, threshold: session.t, rng: o.rng,
    sessionId: sessionIdOf(session),
  });
  return new ProtocolParty(session, s.keys, s.roster, rounds);
}

function engineOf(session: SessionParams): AnyEngine {
  return getEngine(session.engine);
}

// Sign and refresh sessions describe the key they use (t, n); reshare sessions the key they
// make, so for those only key id and epoch are compared.
function checkKey(session: SessionParams, key: PublicPackage & { party?: string }, me?: string): void {
  const whose = key.party ? `share of ${key.party}` : `key ${key.keyId}`;
  expect(key.engine === session.engine && key.keyId === session.keyId, `${whose} is ${key.engine} key ${key.keyId}, the session is for ${session.engine} key ${session.keyId}`);
  if (key.epoch !== session.epoch) {
    throw inputError('SHARE_WRONG_EPOCH', `${whose} is from epoch ${key.epoch}; the session is for epoch ${session.epoch}`, { party: key.party });
  }
  if (me !== undefined && key.party !== me) throw inputError('SESSION_MISMATCH', `${whose} is not ${me}'s share`);
  if (session.dealers === undefined) {
    expect(session.t === key.threshold && session.n === key.parties.length, `session is ${session.t}-of-${session.n}, key is ${key.threshold}-of-${key.parties.length}`);
  }
}

function expect(ok: boolean, message: string): void {
  if (!ok) throw inputError('SESSION_MISMATCH', message);
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
