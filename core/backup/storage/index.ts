import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { TargetOpsConfig } from '../../config/ops-config.ts';
import type { TargetKind } from '../../config/target-settings.ts';
import { LocalStorage } from './local.ts';
import { S3Storage } from './s3.ts';
import type { BackupStorage } from './types.ts';

export type { BackupStorage, IncompleteBackup, Listing, OpenedDump, StoredBackup } from './types.ts';
export { LocalStorage } from './local.ts';
export { S3Storage } from './s3.ts';

/** The storage for one target's database: a sub-folder, or a key prefix, per database. */
export function openStorage(
  ops: Pick<TargetOpsConfig, 'storage'>,
  where: { kind: TargetKind; database: string; stateDir: string },
  opts: { s3Client?: S3Client } = {},
): BackupStorage {
  const s = ops.storage;
  if (s.type === 'local') return new LocalStorage(path.join(s.dir, where.database), { setting: `backups.targets.${where.kind}.storage.dir` });
  const prefix = `${s.prefix ? s.prefix + '/' : ''}${where.kind}/${where.database}/`;
  return new S3Storage(s, prefix, path.join(where.stateDir, 'tmp', 's3'), opts.s3Client);
}
