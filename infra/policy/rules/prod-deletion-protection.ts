import type { ResourceValidationPolicy } from '@pulumi/policy';
import { MARKERS, TYPES } from '../resource-types.ts';

/**
 * Design record, data preservation: "Accidents are expensive". Applies to every RDS instance
 * of the prod target (and to any not tagged with a target, to be safe).
 */
export const prodDeletionProtection: ResourceValidationPolicy = {
  name: 'pgsteward-prod-deletion-protection',
  description: 'Production databases have deletion protection, and deleting a primary leaves a final snapshot.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.rdsInstance) return;
    const target = args.props.tags?.[MARKERS.targetTag];
    if (target !== undefined && target !== 'prod') return;
    if (args.props.deletionProtection !== true) {
      reportViolation('deletionProtection is not true; run pulumi config set pgsteward:deletionProtection true.');
    }
    const primary = !args.props.replicateSourceDb;
    if (primary && (args.props.skipFinalSnapshot === true || !args.props.finalSnapshotIdentifier)) {
      reportViolation('deleting this instance would leave no final snapshot; set skipFinalSnapshot: false and a finalSnapshotIdentifier.');
    }
  },
};
