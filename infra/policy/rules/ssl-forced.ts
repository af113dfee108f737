import type { ResourceValidationPolicy } from '@pulumi/policy';
import { TYPES } from '../resource-types.ts';

/** Traffic to the database is encrypted: the server refuses anything but TLS. */
export const sslForced: ResourceValidationPolicy = {
  name: 'pgsteward-ssl-forced',
  description: 'PostgreSQL on RDS refuses unencrypted connections (rds.force_ssl = 1 in its own parameter group).',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateResource: (args, reportViolation) => {
    const p = args.props;
    if (args.type === TYPES.rdsParameterGroup) {
      if (!String(p.family ?? '').startsWith('postgres')) return;
      const params = (p.parameters ?? []) as Array<{ name?: string; value?: string }>;
      const force = params.find((x) => x.name === 'rds.force_ssl');
      if (force?.value !== '1') reportViolation('rds.force_ssl is not 1 in this PostgreSQL parameter group; add { name: "rds.force_ssl", value: "1" }.');
      return;
    }
    if (args.type === TYPES.rdsInstance && p.engine === 'postgres') {
      const group = p.parameterGroupName as string | undefined;
      if (!group || group.startsWith('default.')) {
        reportViolation('this PostgreSQL instance uses a default parameter group, whose TLS setting is not ours to guarantee; give it a parameter group with rds.force_ssl = 1.');
      }
    }
  },
};
