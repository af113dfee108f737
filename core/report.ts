import { LOGIN_ROLES } from './config/role-names.ts';
import { redactedUrl } from './db/url.ts';
import { roleConnection, type Target } from './open-target.ts';

/** The redacted connection URL of every login role, for reports. */
export function roleUrls(t: Target): Record<string, string> {
  return Object.fromEntries(LOGIN_ROLES.map((role) => [role, redactedUrl(roleConnection(t, role))]));
}
