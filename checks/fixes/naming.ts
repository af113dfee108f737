import type { MigrationFolder } from '../../core/migrations/files.ts';

/**
 * How a folder names its migrations, so a written fix looks like the files around it:
 * sequential (`0005_x.sql`, zero-padded to the folder's width) or timestamped
 * (`YYYYMMDDHHMMSS_x.sql`, as `sqlx migrate add` names them), simple or reversible (`.up.sql`).
 */
export interface FolderLayout {
  style: 'sequential' | 'timestamp';
  reversible: boolean;
  /** Digits of the last version's prefix; sequential versions are padded to it. */
  width: number;
  /** The highest version in the folder (a down file's counts too: sqlx treats it as taken). */
  last: bigint | undefined;
}

const TIMESTAMP = /^(19|20|21)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])([01]\d|2[0-3])[0-5]\d[0-5]\d$/;

/** Pure. An empty folder gets timestamps, as sqlx's own default. */
export function folderLayout(folder: Pick<MigrationFolder, 'migrations' | 'downs' | 'reversible'>): FolderLayout {
  const prefixes = [...folder.migrations.map((m) => m.file), ...folder.downs.map((d) => d.file)].map((f) => f.slice(0, f.indexOf('_')));
  const versions = [...folder.migrations.map((m) => m.version), ...folder.downs.map((d) => d.version)];
  const last = versions.length ? versions.reduce((a, b) => (a > b ? a : b)) : undefined;
  const lastPrefix = prefixes.find((p) => last !== undefined && BigInt(p) === last) ?? '';
  const style = prefixes.length === 0 || prefixes.every((p) => TIMESTAMP.test(p)) ? 'timestamp' : 'sequential';
  return { style, reversible: folder.reversible, width: style === 'sequential' ? lastPrefix.replace(/^[+-]/, '').length : 14, last };
}

/** `YYYYMMDDHHMMSS` in UTC. */
export function utcStamp(d: Date): string {
  return d.toISOString().replace(/\D/g, '').slice(0, 14);
}

function stampDate(stamp: string): Date {
  return new Date(Date.UTC(+stamp.slice(0, 4), +stamp.slice(4, 6) - 1, +stamp.slice(6, 8), +stamp.slice(8, 10), +stamp.slice(10, 12), +stamp.slice(12, 14)));
}

/**
 * Pure: `count` versions after everything in the folder, as prefixes. Timestamps are `now` and
 * the seconds after it, or the seconds after the last version when that is later (a clock
 * behind the folder's author must not sort a fix before what it fixes).
 */
export function nextVersions(layout: FolderLayout, count: number, now: Date): string[] {
  if (layout.style === 'sequential') {
    const first = (layout.last ?? 0n) + 1n;
    return Array.from({ length: count }, (_, k) => (first + BigInt(k)).toString().padStart(layout.width, '0'));
  }
  let start = now;
  if (layout.last !== undefined && BigInt(utcStamp(now)) <= layout.last) start = new Date(stampDate(layout.last.toString()).getTime() + 1000);
  return Array.from({ length: count }, (_, k) => utcStamp(new Date(start.getTime() + k * 1000)));
}

/** A description sqlx reads back as words: lower case, `_` between them, short enough to read. */
export function describeAs(words: string): string {
  return (
    words
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 60)
      .replace(/_+$/, '') || 'fix'
  );
}

export function fileName(layout: FolderLayout, version: string, description: string): string {
  return `${version}_${description}${layout.reversible ? '.up.sql' : '.sql'}`;
}
