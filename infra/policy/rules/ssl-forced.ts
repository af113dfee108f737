import type { ResourceValidationPolicy } from '@pulumi/policy';
import { TYPES } from '../resource-types.ts';

/** From this family on, RDS sets rds.force_ssl = 1 by default (RDS User Guide, "Using SSL with a PostgreSQL DB instance"). */
export const FORCE_SSL_DEFAULT_FROM_MAJOR = 15;

/** The major of a `postgresNN` parameter group family, or undefined for other engines. */
export function postgresFamilyMajor(family: unknown): number | undefined {
  const m = /^postgres(\d+)$/.exec(String(family ?? ''));
  return m ? Number(m[1]) : undefined;
}

/**
 * Traffic to the database is encrypted: the server refuses anything but TLS. On postgres15
 * and later that is the family default, so a group that leaves rds.force_ssl alone complies
 * (setting the default explicitly gives a change on every preview, because the provider
 * reads back only user-set parameters); an explicit 0 is the violation. Before 15 it must
 * be set to 1.
 */
export const sslForced: ResourceValidationPolicy = {
  name: 'pgsteward-ssl-forced',
  description: 'PostgreSQL on RDS refuses unencrypted connections (rds.force_ssl = 1, by the family default from postgres15 or set in its own parameter group).',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateResource: (args, reportViolation) => {
    const p = args.props;
    if (args.type === TYPES.rdsParameterGroup) {
      const major = postgresFamilyMajor(p.family);
      if (major === undefined) return;
      const params = (p.parameters ?? []) as Array<{ name?: string; value?: string }>;
      const force = params.find((x) => x.name === 'rds.force_ssl');
      if (force === undefined) {
        if (major < FORCE_SSL_DEFAULT_FROM_MAJOR) reportViolation(`rds.force_ssl defaults to 0 in the ${p.family} family; add { name: "rds.force_ssl", value: "1" }.`);
      } else if (force.value !== '1') {
        reportViolation(`rds.force_ssl is set to ${JSON.stringify(force.value)} in this PostgreSQL parameter group; remove it (postgres15+ default 1) or set it to "1".`);
      }
      return;
    }
    if (args.type === TYPES.rdsInstance && (p.engine === 'postgres' || p.replicateSourceDb)) {
      const group = p.parameterGroupName as string | undefined;
      // A same-region replica without a group of its own inherits its source's.
      if (p.replicateSourceDb && group === undefined) return;
      if (!group || group.startsWith('default.')) {
        reportViolation('this PostgreSQL instance uses a default parameter group, whose TLS setting is not ours to guarantee; give it the stack\'s parameter group.');
      }
    }
  },
};
