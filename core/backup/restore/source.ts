import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { sha256File } from '../files.ts';
import { manifestNameFor } from '../file-names.ts';
import { parseManifest } from '../manifest.ts';
import type { BackupStorage, OpenedDump, StoredBackup } from '../storage/index.ts';

/** A backup in storage (newest when no name is given), or a dump file with its manifest beside it. */
export type BackupSource = { storage: BackupStorage; name?: string | undefined } | { file: string };

export interface ResolvedBackup {
  backup: StoredBackup;
  dump: OpenedDump;
}

/** Finds the backup and makes its dump readable locally (downloading it from S3). */
export async function resolveBackup(source: BackupSource): Promise<ResolvedBackup> {
  if ('file' in source) {
    const file = path.resolve(source.file);
    if (!existsSync(file)) throw new UserError(`backup file ${file} does not exist`, 'check the path');
    const mf = path.join(path.dirname(file), manifestNameFor(path.basename(file)));
    if (!existsSync(mf)) throw new UserError(`backup file ${file} has no manifest beside it (${path.basename(mf)})`, 'without a manifest its integrity cannot be checked; copy the .json next to the dump');
    const manifest = parseManifest(await readFile(mf, 'utf8'), mf);
    return { backup: { name: path.basename(file), manifest, location: file }, dump: { file, release: async () => {} } };
  }
  let name = source.name;
  if (!name) {
    const { backups } = await source.storage.list();
    const newest = backups.at(-1);
    if (!newest) throw new UserError(`no backups in ${source.storage.location}`, 'take one with npm run backup-db');
    name = newest.name;
  }
  const backup = await source.storage.get(name);
  return { backup, dump: await source.storage.open(name) };
}

/** The SHA-256 check that comes before anything else: a damaged or altered dump is never restored. */
export async function checkIntegrity(r: ResolvedBackup): Promise<void> {
  const got = r.dump.sha256 !== undefined && r.dump.bytes !== undefined ? { sha256: r.dump.sha256, bytes: r.dump.bytes } : await sha256File(r.dump.file);
  const m = r.backup.manifest;
  if (got.sha256 !== m.sha256 || got.bytes !== m.bytes) {
    throw new UserError(
      `backup ${r.backup.name} failed its integrity check: SHA-256 ${got.sha256.slice(0, 16)}… (${got.bytes} bytes) does not match the manifest's ${m.sha256.slice(0, 16)}… (${m.bytes} bytes); nothing was restored`,
      'the file is damaged or was altered: restore another backup (retention --dry-run lists them)',
    );
  }
}

/** The backup, found and proved intact; the caller releases the dump. */
export async function openBackup(source: BackupSource): Promise<ResolvedBackup> {
  const r = await resolveBackup(source);
  try {
    await checkIntegrity(r);
    return r;
  } catch (e) {
    await r.dump.release();
    throw e;
  }
}
