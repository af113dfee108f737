import type { ResourceValidationPolicy } from '@pulumi/policy';
import { TYPES } from '../resource-types.ts';

export const storageEncrypted: ResourceValidationPolicy = {
  name: 'pgsteward-storage-encrypted',
  description: 'Database storage, and so its snapshots and backups, is encrypted at rest.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.rdsInstance && args.type !== TYPES.rdsCluster) return;
    if (args.props.storageEncrypted !== true) {
      reportViolation('storageEncrypted is not true; set storageEncrypted: true (an existing unencrypted database must be restored from an encrypted snapshot copy).');
    }
  },
};
