import type { ResourceValidationPolicy } from '@pulumi/policy';
import { MARKERS, TYPES } from '../resource-types.ts';

/**
 * Design record, data preservation: "Accidents are expensive". Applies to every RDS instance
 * of the prod target (and to any not tagged with a target, to be safe). The one exception is
 * the explicit decision to tear prod down: `pgsteward:decommission true` tags the instances,
 * and then deletion protection may be off. A primary still has to leave a final snapshot.
 */
export const prodDeletionProtection: ResourceValidationPolicy = {
  name: 'pgsteward-prod-deletion-protection',
  description: 'Production databases have deletion protection unless explicitly decommissioned, and deleting a primary leaves a final snapshot.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.rdsInstance) return;
    const target = args.props.tags?.[MARKERS.targetTag];
    if (target !== undefined && target !== 'prod') return;
    const decommissioned = args.props.tags?.[MARKERS.decommissionTag] === 'true';
    if (args.props.deletionProtection !== true && !decommissioned) {
      reportViolation('deletionProtection is not true; run pulumi config set pgsteward:deletionProtection true (or, to tear prod down on purpose, pulumi config set pgsteward:decommission true).');
    }
    const primary = !args.props.replicateSourceDb;
    if (primary && (args.props.skipFinalSnapshot === true || !args.props.finalSnapshotIdentifier)) {
      reportViolation('deleting this instance would leave no final snapshot; set skipFinalSnapshot: false and a finalSnapshotIdentifier.');
    }
  },
};
