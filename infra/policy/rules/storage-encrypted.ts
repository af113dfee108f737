import type { ResourceValidationPolicy } from '@pulumi/policy';
import { TYPES } from '../resource-types.ts';

/**
 * Database storage, and so its snapshots and backups, is encrypted at rest. A read replica
 * takes its encryption from its source (it cannot be set on CreateDBInstanceReadReplica in
 * the same region), so it is judged through the primary this policy also checks.
 */
export const storageEncrypted: ResourceValidationPolicy = {
  name: 'pgsteward-storage-encrypted',
  description: 'Database storage, and so its snapshots and backups, is encrypted at rest.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.rdsInstance && args.type !== TYPES.rdsCluster) return;
    if (args.type === TYPES.rdsInstance && args.props.replicateSourceDb) return;
    if (args.props.storageEncrypted !== true) {
      reportViolation('storageEncrypted is not true; set storageEncrypted: true (an existing unencrypted database must be restored from an encrypted snapshot copy).');
    }
  },
};
