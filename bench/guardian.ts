import { combine, split } from 'shamir-secret-sharing';
import { newIdentity, publicOf } from '../src/custody/identity.js';
import { ageKeyBytes, openShare, rebuildAgeKey, splitAgeKey, verifyEnvelope } from '../src/custody/guardian-share.js';
import { ms, paired, QUICK, row, type Row } from './table.js';

// A custodian's age key split 2-of-3 among guardians, and rebuilt from two of them: keyrite's
// signed envelopes, age-encrypted shares, commitments and checks, beside the bare
// shamir-secret-sharing split and combine of the same 32 bytes. The issue sets no target.

export async function rows(): Promise<Row[]> {
  const runs = QUICK ? 5 : 21;
  const custodian = await newIdentity('alice', 'custodian');
  const guardians = await Promise.all(['g1', 'g2', 'g3'].map((g) => newIdentity(g, 'guardian')));
  const secret = ageKeyBytes(custodian.ageIdentity);
  const made = await splitAgeKey(custodian, guardians.map(publicOf), 2);
  const rawShares = await split(secret, 3, 2);
  const [s, floorS] = await paired(runs, () => splitAgeKey(custodian, guardians.map(publicOf), 2), () => split(secret, 3, 2));
  const rebuild = async () => {
    const shares = [];
    for (const i of [0, 1]) {
      const e = made.envelopes[i]!;
      verifyEnvelope(e, made.set, `share ${i + 1}`);
      shares.push({ guardian: e.guardian, share: await openShare(e, guardians[i]!, `share ${i + 1}`) });
    }
    if ((await rebuildAgeKey(made.set, shares)) !== custodian.ageIdentity) throw new Error('guardian shares rebuilt another key');
  };
  const [c, floorC] = await paired(runs, rebuild, () => combine(rawShares.slice(0, 2)));
  const floor = (value: number, what: string) => ({ ...ms(value), what });
  return [
    row('guardian split, 2-of-3', ms(s), floor(floorS, 'shamir-secret-sharing split'), null, 'lower', `median of ${runs}`),
    row('guardian combine, 2 of 3', ms(c), floor(floorC, 'shamir-secret-sharing combine'), null, 'lower', `median of ${runs}; envelopes checked, shares opened with the guardians' age keys`),
  ];
}
