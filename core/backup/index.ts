/** The backup toolkit's public surface: ops/, infra/, bench/ and reset-db import from here. */
export { backupDatabase, backupPreflight, type BackupOptions, type BackupResult } from './backup.ts';
export { storageFor } from './settings.ts';
export { describeManifest, type BackupManifest, type VerificationRecord } from './manifest.ts';
export { backupName, parseBackupName, isBackupName } from './file-names.ts';
export { planRetention, type RetentionPlan } from './retention.ts';
export { pruneBackups, type PruneReport } from './prune.ts';
export { restoreBackup, restoreGuard, type BackupSource, type RestoreDestination, type RestoreReport } from './restore/index.ts';
export { verifyBackup, type VerifyReport } from './verify.ts';
export { keepWayBack, describeWayBack, takeSafetyBackup, type SafetyBackupResult, type WayBack } from './way-back.ts';
export type { ChecksRunner } from './checks.ts';
export { openStorage, type BackupStorage } from './storage/index.ts';
