/**
 * Our project's choices, as opposed to defects on any database. A check (or a finding) that
 * belongs to a policy runs only when the configuration enables that policy; with no
 * configuration only the generic checks run, and the report names the policies not evaluated.
 */
export const POLICIES = ['uuidv7-keys', 'updated-at', 'email-case-insensitive', 'search', 'roles', 'ledger'] as const;
export type PolicyName = (typeof POLICIES)[number];
