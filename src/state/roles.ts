// Who can hold an identity. Kept apart from identity.ts so that the CLI can check a --role
// without loading the age and curve libraries.

export const PERSON_ROLES = ['generator', 'custodian', 'guardian', 'witness', 'auditor'] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];
export type Role = PersonRole | 'node';
