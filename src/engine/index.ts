// Threshold engines (docs/ARCHITECTURE.md §3) and their authenticated protocol runs (docs/ARCHITECTURE.md §5).
// Nothing here prints, prompts, stores files or opens connections.

export type {
  Engine, AnyEngine, EngineId, Share, PublicPackage, PairwiseSetup, RecoveredKey, Rounds, Round2Out, MultiRounds, RoundOut, RoundIn, RoundPlan,
  Rng, DkgOptions, SignOptions, RefreshOptions, ReshareOptions,
} from './types.js';
export { ENGINE_IDS } from './types.js';
export { engineNotice, getEngine } from './registry.js';
export { keyIdOf, serializeShare, publicPackageOf } from './share.js';
export { solanaAddress, taprootAddress, ethereumAddress, p2wpkhAddress, addressesOf } from './address.js';
export { taprootOutputKey } from './taproot.js';
export { descriptorChecksum, taprootDescriptors, type TaprootDescriptors } from './descriptor.js';
export { ECDSA_ENGINE_ID, ECDSA_LABEL, banNoticeOf, recoverableParts } from './ecdsa/engine.js';
export type { BanNotice, BanCheck } from './ecdsa/engine.js';
export type { SessionParams, Envelope, UnsignedEnvelope, DirectStatement, Sealed } from './envelope.js';
export { sessionIdOf, membersOf, signEnvelope, envelopeSignatureValid, envelopeDigest, sealDirect, openDirect, BROADCAST } from './envelope.js';
export type { PartyKeys, Member, Roster, Stage } from './protocol.js';
export { ProtocolParty } from './protocol.js';
export type { PartySetup } from './party.js';
export { dkgParty, signParty, refreshParty, reshareParty } from './party.js';
export { repairParty, type RepairOptions } from './repair.js';
export type { ProtocolCode } from './blame.js';
export type { Accusation, Bench, Verdict, ShareProtocol, ProvedBlame, UnverifiedClaim } from './accusation.js';
export { ACCUSABLE, judgeAccusation, recheckBlame, shareProtocolOf } from './accusation.js';
