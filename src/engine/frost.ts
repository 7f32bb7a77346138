import { fromHex } from '../base/canonical.js';
import { combineShares } from './combine.js';
import { dkgRounds } from './dkg.js';
import { refreshRounds } from './refresh.js';
import { reshareRounds } from './reshare.js';
import { parsePublicPackage, parseShare, publicPackageOf } from './share.js';
import { signRounds } from './sign.js';
import type { Suite } from './suite.js';
import type { Engine } from './types.js';

// One FROST engine, parameterized by a suite; ed25519 and bip340 differ only in their suite.

export function frostEngine(suite: Suite): Engine {
  return {
    id: suite.id,
    dkg: (o) => dkgRounds(suite, o),
    sign: (o) => signRounds(suite, { ...o, share: parseShare(suite, o.share, `share of ${o.share.party}`) }),
    refresh: (o) => refreshRounds(suite, { ...o, share: parseShare(suite, o.share, `share of ${o.share.party}`) }),
    reshare: (o) =>
      reshareRounds(suite, {
        ...o,
        old: parsePublicPackage(suite, o.old, `key ${o.old.keyId}`),
        share: o.share && parseShare(suite, o.share, `share of ${o.share.party}`),
      }),
    combine: (shares) => combineShares(suite, shares),
    verify(publicKey, message, signature) {
      try {
        return suite.frost.verify(fromHex(signature, 'signature'), message, fromHex(publicKey, 'public key'));
      } catch {
        return false; // malformed key or signature: not a valid signature
      }
    },
    parseShare: (value, what) => parseShare(suite, value, what),
    parsePublicPackage: (value, what) => parsePublicPackage(suite, value, what),
    publicPackage: publicPackageOf,
  };
}
