import { existsSync, mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { fsyncDir, fsyncFile, writeFileAtomic } from '../files.ts';
import { pidAlive } from '../../processes.ts';
import { parseManifest, serializeManifest, type BackupManifest } from '../manifest.ts';
import { DUMP_EXTENSION, MANIFEST_EXTENSION, isBackupName, manifestNameFor } from '../file-names.ts';
import type { BackupStorage, Listing, OpenedDump, StoredBackup } from './types.ts';

/** Staged dumps are hidden files carrying the writer's pid: `.local-20261125T031500Z.dump.4242.partial`. */
const PARTIAL = /^\.(.+)\.(\d+)\.partial$/;

/**
 * Backups in a local folder (0700, files 0600). A dump is written under a hidden partial name
 * in the same folder, fsynced, then renamed: a crash never leaves a file under a final name
 * that is not complete.
 */
export interface LocalStorageOptions {
  /** The config setting that names the folder, for messages. */
  setting?: string;
}

/** A write that failed because of the folder itself, as one line with its fix. */
function folderError(e: unknown, dir: string, setting: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if ((code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT') && !existsSync(dir)) {
    return new UserError(`backup storage folder ${dir} does not exist and cannot be created (${code === 'EROFS' ? 'read-only file system' : code === 'ENOENT' ? 'a parent is missing' : 'permission denied'})`, `create it (mkdir -p ${dir}) for this user, or point ${setting} at another folder; nothing was stored`);
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new UserError(`backup storage folder ${dir} is not writable (${code === 'EROFS' ? 'read-only file system' : 'permission denied'})`, `make it writable for this user, or point ${setting} at another folder; nothing was stored`);
  }
  if (code === 'ENOTDIR' || code === 'EEXIST') return new UserError(`backup storage path ${dir} is not a folder`, `point ${setting} at a folder; nothing was stored`);
  return e;
}

export class LocalStorage implements BackupStorage {
  readonly kind = 'local' as const;
  readonly location: string;
  private readonly setting: string;

  constructor(readonly dir: string, opts: LocalStorageOptions = {}) {
    this.location = dir;
    this.setting = opts.setting ?? 'the storage dir in the config';
  }

  locationOf(name: string): string {
    return path.join(this.dir, name);
  }

  private ensureDir(): void {
    try {
      if (!existsSync(this.dir)) mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw folderError(e, this.dir, this.setting);
    }
  }

  /** Partial files whose writer is gone: left by a killed backup. */
  private async sweepStalePartials(): Promise<void> {
    for (const f of await readdir(this.dir)) {
      const m = PARTIAL.exec(f);
      if (m && !pidAlive(Number(m[2]))) await rm(path.join(this.dir, f), { force: true });
    }
  }

  async stage(name: string): Promise<string> {
    this.ensureDir();
    await this.sweepStalePartials();
    const staged = path.join(this.dir, `.${name}.${process.pid}.partial`);
    // Created exclusively now so a second writer with the same name fails instead of interleaving.
    const fh = await open(staged, 'wx', 0o600).catch((e: unknown) => {
      throw folderError(e, this.dir, this.setting);
    });
    await fh.close();
    return staged;
  }

  async commit(staged: string, manifest: BackupManifest): Promise<string> {
    const final = this.locationOf(manifest.name);
    if (existsSync(final)) throw new UserError(`backup ${manifest.name} already exists in ${this.dir}`, 'run the backup again');
    await fsyncFile(staged);
    // The dump takes its final name first; a manifest only ever describes a dump that exists.
    await rename(staged, final);
    await writeFileAtomic(path.join(this.dir, manifestNameFor(manifest.name)), serializeManifest(manifest));
    await fsyncDir(this.dir);
    return final;
  }

  async discard(staged: string): Promise<void> {
    await rm(staged, { force: true });
  }

  async exists(name: string): Promise<boolean> {
    return existsSync(this.locationOf(name)) || existsSync(path.join(this.dir, manifestNameFor(name)));
  }

  async list(): Promise<Listing> {
    if (!existsSync(this.dir)) return { backups: [], incomplete: [] };
    const files = new Set(
      await readdir(this.dir).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EACCES' || e.code === 'EPERM') throw new UserError(`backup storage folder ${this.dir} cannot be read (permission denied)`, `give this user read access, or point ${this.setting} at another folder`);
        throw folderError(e, this.dir, this.setting);
      }),
    );
    const backups: StoredBackup[] = [];
    const incomplete: Listing['incomplete'] = [];
    const mtime = async (f: string) => (await stat(path.join(this.dir, f)).catch(() => undefined))?.mtime;
    for (const f of files) {
      if (f.endsWith(DUMP_EXTENSION) && isBackupName(f)) {
        const mf = manifestNameFor(f);
        if (!files.has(mf)) {
          incomplete.push({ name: f, kind: 'no-manifest', reason: 'dump without a manifest (interrupted before it was recorded)', modifiedAt: await mtime(f) });
          continue;
        }
        try {
          const manifest = parseManifest(await readFile(path.join(this.dir, mf), 'utf8'), path.join(this.dir, mf));
          if (manifest.name !== f) throw new UserError(`manifest ${mf} describes ${manifest.name}`, '');
          backups.push({ name: f, manifest, location: this.locationOf(f) });
        } catch (e) {
          incomplete.push({ name: f, kind: 'unreadable', reason: (e as Error).message, modifiedAt: await mtime(f) });
        }
      } else if (f.endsWith(MANIFEST_EXTENSION) && !f.startsWith('.')) {
        const dump = f.slice(0, -MANIFEST_EXTENSION.length) + DUMP_EXTENSION;
        if (isBackupName(dump) && !files.has(dump)) incomplete.push({ name: dump, kind: 'no-dump', reason: 'manifest without a dump', modifiedAt: await mtime(f) });
      }
    }
    backups.sort((a, b) => a.manifest.startedAt.localeCompare(b.manifest.startedAt) || a.name.localeCompare(b.name));
    return { backups, incomplete };
  }

  async get(name: string): Promise<StoredBackup> {
    const dump = this.locationOf(name);
    const mf = path.join(this.dir, manifestNameFor(name));
    if (!existsSync(dump)) throw new UserError(`backup ${name} not found in ${this.dir}`, 'list the backups with retention --dry-run, or check --target and --database');
    if (!existsSync(mf)) throw new UserError(`backup ${name} has no manifest (${mf})`, 'it was interrupted before it was recorded; use another backup');
    const manifest = parseManifest(await readFile(mf, 'utf8'), mf);
    return { name, manifest, location: dump };
  }

  async open(name: string): Promise<OpenedDump> {
    const { location } = await this.get(name);
    return { file: location, release: async () => {} };
  }

  async writeManifest(manifest: BackupManifest): Promise<void> {
    await writeFileAtomic(path.join(this.dir, manifestNameFor(manifest.name)), serializeManifest(manifest)).catch((e: unknown) => {
      throw folderError(e, this.dir, this.setting);
    });
  }

  async remove(name: string): Promise<void> {
    await rm(this.locationOf(name), { force: true });
    await rm(path.join(this.dir, manifestNameFor(name)), { force: true });
    await fsyncDir(this.dir).catch(() => {});
  }
}
