import { createPublicKey, verify as osslVerify } from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1.js';
import { digestOf, fromHex } from '../../src/base/canonical.js';
import {
  dkgParty, refreshParty, reshareParty, signParty,
  type PartyKeys, type PublicPackage, type Roster, type SessionParams, type Share,
} from '../../src/engine/index.js';
import { localIdentities, runParties, type Transport } from './engine-run.js';

// Shared fixtures for the engine tests: identities, sessions and full in-memory runs.

export type Ids = { keys: Record<string, PartyKeys>; roster: Roster; rosterDigest: string };

export async function identities(names: string[]): Promise<Ids> {
  const { keys, roster } = await localIdentities(names);
  return { keys, roster, rosterDigest: digestOf(roster) };
}

export const names = (n: number, prefix = 'node'): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);

export function dkgSession(engine: string, parties: string[], t: number, ids: Ids, ceremonyId = 'c-dkg'): SessionParams {
  return { engine, keyId: 'new', epoch: 0, participants: parties, t, n: parties.length, ceremonyId, rosterDigest: ids.rosterDigest };
}

export function keySession(key: PublicPackage, participants: string[], ids: Ids, ceremonyId = 'c-use'): SessionParams {
  return { engine: key.engine, keyId: key.keyId, epoch: key.epoch, participants, t: key.threshold, n: key.parties.length, ceremonyId, rosterDigest: ids.rosterDigest };
}

export async function runDkg(engine: string, parties: string[], t: number, ids: Ids, transport?: Transport): Promise<Record<string, Share>> {
  const session = dkgSession(engine, parties, t, ids);
  const out = await runParties(parties.map((p) => dkgParty({ session, keys: ids.keys[p]!, roster: ids.roster })), transport);
  return out as Record<string, Share>;
}

export async function runSign(shares: Share[], message: Uint8Array, ids: Ids, transport?: Transport): Promise<string> {
  const signers = shares.map((s) => s.party);
  const session = keySession(shares[0]!, signers, ids);
  const out = await runParties(shares.map((share) => signParty({ session, keys: ids.keys[share.party]!, roster: ids.roster }, { share, message })), transport);
  const sigs = new Set(Object.values(out));
  if (sigs.size !== 1) throw new Error('signers disagree on the signature');
  return [...sigs][0]!;
}

export async function runRefresh(shares: Share[], ids: Ids, transport?: Transport): Promise<Record<string, Share>> {
  const session = keySession(shares[0]!, shares[0]!.parties, ids, 'c-refresh');
  const out = await runParties(shares.map((share) => refreshParty({ session, keys: ids.keys[share.party]!, roster: ids.roster }, { share })), transport);
  return out as Record<string, Share>;
}

export async function runReshare(old: PublicPackage, dealerShares: Share[], holders: string[], t: number, ids: Ids, transport?: Transport): Promise<Record<string, Share | null>> {
  const dealers = dealerShares.map((s) => s.party);
  const session: SessionParams = {
    engine: old.engine, keyId: old.keyId, epoch: old.epoch, participants: holders, t, n: holders.length,
    ceremonyId: 'c-reshare', rosterDigest: ids.rosterDigest, dealers,
  };
  const members = [...new Set([...dealers, ...holders])];
  const parties = members.map((m) => reshareParty({ session, keys: ids.keys[m]!, roster: ids.roster }, { old, share: dealerShares.find((s) => s.party === m) }));
  return runParties(parties, transport);
}

/** Verifiers that share no code with the engine: OpenSSL for Ed25519, noble's BIP-340 schnorr. */
export function independentVerify(engine: string, publicKey: string, message: Uint8Array, signature: string): boolean {
  if (engine === 'ed25519') {
    // SPKI DER for Ed25519 (RFC 8410): fixed 12-byte prefix, then the 32-byte key.
    const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), fromHex(publicKey, 'key', 32)]);
    return osslVerify(null, message, createPublicKey({ key: der, format: 'der', type: 'spki' }), fromHex(signature, 'sig'));
  }
  return schnorr.verify(fromHex(signature, 'sig'), message, fromHex(publicKey, 'key', 32));
}

/** Runs `fn`, expecting a KeyriteError with `code` that blames `party`. */
export async function expectBlame(fn: () => Promise<unknown>, code: string, party: string): Promise<void> {
  try {
    await fn();
  } catch (e) {
    const err = e as { code?: string; party?: string; message: string };
    if (err.code !== code || err.party !== party || !err.message.includes(party)) {
      throw new Error(`expected ${code} blaming ${party}, got ${err.code} blaming ${err.party}: ${err.message}`);
    }
    return;
  }
  throw new Error(`expected ${code} blaming ${party}, but the run succeeded`);
}

export const msg32 = (tag: string): Uint8Array => fromHex(digestOf({ tag }), 'msg', 32);
