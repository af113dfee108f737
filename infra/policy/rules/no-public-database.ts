import type { ResourceValidationPolicy } from '@pulumi/policy';
import { TYPES } from '../resource-types.ts';

/** Design record, network isolation: "No external exposure". */
export const noPublicDatabase: ResourceValidationPolicy = {
  name: 'pgsteward-no-public-database',
  description: 'Databases are never publicly accessible: they are reached from inside the private network only.',
  enforcementLevel: 'mandatory',
  severity: 'critical',
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.rdsInstance && args.type !== TYPES.rdsClusterInstance) return;
    if (args.props.publiclyAccessible === true) {
      reportViolation('publiclyAccessible is true; set it to false and reach the database from inside the VPC (or through an SSM port forward).');
    }
  },
};
