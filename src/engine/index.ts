// Threshold engines (docs/ARCHITECTURE.md §3) and their authenticated protocol runs (docs/ARCHITECTURE.md §5).
// Nothing here prints, prompts, stores files or opens connections.

export type { Engine, EngineId, Share, PublicPackage, RecoveredKey, Rounds, Round2Out, Rng, DkgOptions, SignOptions, RefreshOptions, ReshareOptions } from './types.js';
export { ENGINE_IDS } from './types.js';
export { getEngine } from './registry.js';
export { keyIdOf, serializeShare, publicPackageOf } from './share.js';
export { solanaAddress, taprootAddress, addressesOf } from './address.js';
export type { SessionParams, Envelope, UnsignedEnvelope, DirectStatement, Sealed } from './envelope.js';
export { sessionIdOf, membersOf, signEnvelope, envelopeSignatureValid, envelopeDigest, sealDirect, openDirect, BROADCAST } from './envelope.js';
export type { PartyKeys, Member, Roster, Stage } from './protocol.js';
export { ProtocolParty } from './protocol.js';
export type { PartySetup } from './party.js';
export { dkgParty, signParty, refreshParty, reshareParty } from './party.js';
export type { ProtocolCode } from './blame.js';
