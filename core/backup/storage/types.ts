import type { BackupManifest } from '../manifest.ts';

/** A complete backup: a dump and its manifest, both present. */
export interface StoredBackup {
  name: string;
  manifest: BackupManifest;
  /** Where the dump is, for people: a path or an s3:// URL. */
  location: string;
}

export interface Listing {
  /** Complete backups, oldest first. */
  backups: StoredBackup[];
  /** Dumps without a manifest, manifests without a dump or unreadable: never restored, never counted as backups. */
  incomplete: IncompleteBackup[];
}

export interface IncompleteBackup {
  name: string;
  kind: 'no-manifest' | 'no-dump' | 'unreadable';
  reason: string;
  modifiedAt: Date | undefined;
}

/** A dump available as a local file for pg_restore; `release` removes any temporary copy. */
export interface OpenedDump {
  file: string;
  /** Set when the bytes were hashed on their way into `file` (downloads), so they need not be read twice. */
  sha256?: string;
  bytes?: number;
  release(): Promise<void>;
}

/**
 * Where backups live. One small interface so that backup, retention, listing, restore and
 * verification work the same on a local folder and on S3.
 */
export interface BackupStorage {
  readonly kind: 'local' | 's3';
  /** For people: the folder or `s3://bucket/prefix/`. */
  readonly location: string;
  locationOf(name: string): string;
  /** A fresh local file to write a new dump into, on the same file system as its final place where possible. */
  stage(name: string): Promise<string>;
  /** Makes a staged dump and its manifest visible under their final names, atomically per object. */
  commit(staged: string, manifest: BackupManifest): Promise<string>;
  /** Removes a staged file after a failure. */
  discard(staged: string): Promise<void>;
  exists(name: string): Promise<boolean>;
  list(): Promise<Listing>;
  /** One complete backup; a UserError names what is missing. */
  get(name: string): Promise<StoredBackup>;
  open(name: string): Promise<OpenedDump>;
  /** Replaces a manifest (verification results). */
  writeManifest(manifest: BackupManifest): Promise<void>;
  /** Deletes a backup's dump, then its manifest. */
  remove(name: string): Promise<void>;
}
