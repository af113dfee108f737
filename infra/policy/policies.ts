import type { ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { backupBucketSecure } from './rules/backup-bucket-secure.ts';
import { bucketTlsEnforced } from './rules/bucket-tls-enforced.ts';
import { scheduledJobsAlarmed } from './rules/scheduled-jobs-alarmed.ts';
import { taskRolesNoWildcards } from './rules/task-roles-no-wildcards.ts';
import { databaseNetworkInternal } from './rules/database-network-internal.ts';
import { dockerPortsLoopbackOnly } from './rules/docker-ports-loopback-only.ts';
import { noPublicDatabase } from './rules/no-public-database.ts';
import { prodDeletionProtection } from './rules/prod-deletion-protection.ts';
import { sslForced } from './rules/ssl-forced.ts';
import { storageEncrypted } from './rules/storage-encrypted.ts';

/** The resource policies: each judges one resource. */
export const RESOURCE_POLICIES: ResourceValidationPolicy[] = [
  noPublicDatabase,
  storageEncrypted,
  dockerPortsLoopbackOnly,
  databaseNetworkInternal,
  prodDeletionProtection,
  sslForced,
];

/** The stack policies: each judges resources together (a bucket and its settings, a schedule and its alarms). */
export const STACK_POLICIES: StackValidationPolicy[] = [backupBucketSecure, bucketTlsEnforced, taskRolesNoWildcards, scheduledJobsAlarmed];

/** Every policy of the pack, as plain objects (the tests call them directly). */
export const POLICIES: Array<ResourceValidationPolicy | StackValidationPolicy> = [...RESOURCE_POLICIES, ...STACK_POLICIES];
