/** The backup toolkit's public surface: ops/, infra/, bench/ and reset-db import from here. */
export { backupDatabase, backupPreflight, storageFor, type BackupOptions, type BackupResult } from './backup.ts';
export type { BackupManifest, VerificationRecord } from './manifest.ts';
export { backupName, parseBackupName } from './names.ts';
export { planRetention, type RetentionPlan } from './retention.ts';
export { pruneBackups, type PruneReport } from './prune.ts';
export { restoreBackup, restoreGuard, type RestoreReport } from './restore.ts';
export { verifyBackup, type VerifyReport } from './verify.ts';
export { takeSafetyBackup, type SafetyBackupResult } from './safety.ts';
export type { ChecksRunner } from './checks.ts';
export { openStorage, type BackupStorage } from './storage/index.ts';
