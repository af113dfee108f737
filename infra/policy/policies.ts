import type { ResourceValidationPolicy } from '@pulumi/policy';
import { databaseNetworkInternal } from './rules/database-network-internal.ts';
import { dockerPortsLoopbackOnly } from './rules/docker-ports-loopback-only.ts';
import { noPublicDatabase } from './rules/no-public-database.ts';
import { prodDeletionProtection } from './rules/prod-deletion-protection.ts';
import { sslForced } from './rules/ssl-forced.ts';
import { storageEncrypted } from './rules/storage-encrypted.ts';

/** Every policy of the pack, as plain objects (the tests call them directly). */
export const POLICIES: ResourceValidationPolicy[] = [
  noPublicDatabase,
  storageEncrypted,
  dockerPortsLoopbackOnly,
  databaseNetworkInternal,
  prodDeletionProtection,
  sslForced,
];
