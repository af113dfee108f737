import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';

/**
 * sqlx's `MigrationType`. A simple file and a reversible up are both "migrate" to sqlx and get
 * the same ledger row; a reversible down is only ever run by `sqlx migrate revert`.
 */
export type MigrationType = 'simple' | 'reversible-up' | 'reversible-down';

/** One migration this runner applies (a simple file or a `.up.sql`), described exactly as sqlx describes it. */
export interface Migration {
  version: bigint;
  description: string;
  file: string;
  sql: string;
  /** SHA-384 of the file's exact bytes, as sqlx stores it in `_sqlx_migrations.checksum`. */
  checksum: Buffer;
  /** sqlx runs a file that starts with `-- no-transaction` outside a transaction. */
  noTransaction: boolean;
  type: 'simple' | 'reversible-up';
}

/** A `.down.sql` file: read and checked as sqlx reads it, never executed (the design record's up-only policy). */
export interface DownFile {
  version: bigint;
  file: string;
}

/** A folder entry sqlx passes over without a word, kept so `status` can show it. */
export interface SkippedFile {
  file: string;
  reason: 'not a file' | 'no "_" in the name' | 'does not end in .sql';
}

/** A migrations folder as sqlx 0.8.6 resolves it. */
export interface MigrationFolder {
  dir: string;
  /** What runs, in version order: the simple files, or the `.up.sql` files of a reversible folder. */
  migrations: Migration[];
  /** The folder uses sqlx's reversible layout (`<version>_<description>.up.sql` / `.down.sql`). */
  reversible: boolean;
  downs: DownFile[];
  skipped: SkippedFile[];
}

/** A version-only view of either form: commands may pass a folder or just its migrations. */
export type MigrationSource = readonly Migration[] | MigrationFolder;

export function migrationsOf(source: MigrationSource): readonly Migration[] {
  return isFolder(source) ? source.migrations : source;
}

/** Versions with a local file of any kind: sqlx counts a down file's version as present. */
export function localVersions(source: MigrationSource): Set<bigint> {
  const out = new Set(migrationsOf(source).map((m) => m.version));
  if (isFolder(source)) for (const d of source.downs) out.add(d.version);
  return out;
}

function isFolder(source: MigrationSource): source is MigrationFolder {
  return !Array.isArray(source);
}

const MIN_I64 = -(1n << 63n);
const MAX_I64 = (1n << 63n) - 1n;
const SUFFIX: Record<MigrationType, string> = { 'reversible-up': '.up.sql', 'reversible-down': '.down.sql', simple: '.sql' };

export function sha384(bytes: Uint8Array): Buffer {
  return createHash('sha384').update(bytes).digest();
}

/** Rust's `str::trim_end_matches` with a literal: removes the suffix as many times as it repeats. */
function trimEndMatches(s: string, suffix: string): string {
  while (s.endsWith(suffix)) s = s.slice(0, s.length - suffix.length);
  return s;
}

/**
 * sqlx's reading of a file name: split at the first `_`; no `_`, or no `.sql` at the end of the
 * rest, and the file is silently skipped; otherwise the prefix must parse as an i64 (Rust's
 * `parse`: an optional sign and digits) or the whole folder is refused. The description is the
 * rest without its type suffix, `_` as spaces.
 */
export function describeFileName(file: string): { version: bigint; description: string; type: MigrationType } | { skip: SkippedFile['reason'] } {
  const cut = file.indexOf('_');
  if (cut < 0) return { skip: 'no "_" in the name' };
  const prefix = file.slice(0, cut);
  const rest = file.slice(cut + 1);
  if (!rest.endsWith('.sql')) return { skip: 'does not end in .sql' };
  const version = /^[+-]?\d+$/.test(prefix) ? BigInt(prefix) : undefined;
  if (version === undefined || version < MIN_I64 || version > MAX_I64) {
    throw new UserError(
      `migration file name "${file}" has no integer version before the first "_"`,
      'name it <version>_<description>.sql, e.g. 0005_add_sessions.sql (sqlx refuses this name too)',
    );
  }
  const type: MigrationType = rest.endsWith(SUFFIX['reversible-up']) ? 'reversible-up' : rest.endsWith(SUFFIX['reversible-down']) ? 'reversible-down' : 'simple';
  return { version, description: trimEndMatches(rest, SUFFIX[type]).replace(/_/g, ' '), type };
}

/** Offset of the first byte that breaks UTF-8 (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF), or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    // The range the second byte must fall in narrows for the lead bytes that could start an overlong, a surrogate or a too-large code point.
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else {
      return i;
    }
    for (let k = 1; k <= need; k++) {
      const x = b[i + k];
      if (x === undefined || x < (k === 1 ? lo : 0x80) || x > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** The file's text, refused (naming the file) where sqlx would refuse it or PostgreSQL would choke on it invisibly. */
function decode(file: string, bytes: Buffer, type: MigrationType): string {
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    const line = bytes.subarray(0, bad).filter((x) => x === 0x0a).length + 1;
    throw new UserError(`migration ${file} is not valid UTF-8 (line ${line}, byte offset ${bad})`, 'save it as UTF-8; sqlx refuses such a file too');
  }
  // A down file is never sent to the server, so its mark harms nothing here.
  if (type !== 'reversible-down' && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new UserError(
      `migration ${file} starts with a UTF-8 byte-order mark (BOM)`,
      'save without BOM: PostgreSQL takes the mark for part of the first statement and reports a syntax error there',
    );
  }
  return bytes.toString('utf8');
}

export interface FolderEntry {
  name: string;
  isFile: boolean;
  /** Called only for entries that are migration files. */
  read: () => Buffer;
}

/**
 * Pure: a folder's entries as sqlx resolves them, plus what sqlx leaves to chance. Refuses a
 * version used by two migrations (sqlx would fail on the ledger's primary key halfway through)
 * and a folder mixing simple and reversible files.
 */
export function parseMigrationFolder(entries: readonly FolderEntry[], dir = ''): MigrationFolder {
  const migrations: Migration[] = [];
  const downs: DownFile[] = [];
  const skipped: SkippedFile[] = [];
  const seen = new Map<bigint, string>();
  let firstSimple: string | undefined;
  let firstReversible: string | undefined;
  for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!e.isFile) {
      skipped.push({ file: e.name, reason: 'not a file' });
      continue;
    }
    const d = describeFileName(e.name);
    if ('skip' in d) {
      skipped.push({ file: e.name, reason: d.skip });
      continue;
    }
    if (d.type === 'simple') firstSimple ??= e.name;
    else firstReversible ??= e.name;
    if (firstSimple && firstReversible) {
      throw new UserError(
        `migrations folder mixes simple and reversible migrations (${firstSimple} and ${firstReversible})`,
        'use one kind per folder: rename the simple files to <version>_<description>.up.sql (the ledger keeps the same description and checksum), or the reversible ones to .sql',
      );
    }
    const bytes = e.read();
    const sql = decode(e.name, bytes, d.type);
    if (d.type === 'reversible-down') {
      downs.push({ version: d.version, file: e.name });
      continue;
    }
    const prior = seen.get(d.version);
    if (prior) throw new UserError(`migration version ${d.version} is used twice: ${prior} and ${e.name}`, 'give one of them the next free version number');
    seen.set(d.version, e.name);
    migrations.push({ version: d.version, description: d.description, file: e.name, sql, checksum: sha384(bytes), noTransaction: sql.startsWith('-- no-transaction'), type: d.type });
  }
  refuseUnrecognised(dir, migrations.length + downs.length, skipped);
  const byVersion = (a: { version: bigint }, b: { version: bigint }) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0);
  return { dir, migrations: migrations.sort(byVersion), reversible: firstReversible !== undefined, downs: downs.sort(byVersion), skipped };
}

/** The layouts this runner reads, as the refusal names them. */
export const LAYOUTS = 'sqlx simple (<version>_<description>.sql) or reversible (<version>_<description>.up.sql with .down.sql)';

/**
 * A folder with entries but no migration among them is another tool's layout (Prisma's
 * folders, Rails' .rb, knex's .js, Flyway's V1__x.sql is refused by name already) or the wrong
 * folder: refused, rather than reported as "nothing to apply". Hidden entries (.gitkeep,
 * .DS_Store) do not count, so an empty folder, a brand-new project's, is accepted: nothing
 * pending, and against a migrated database the ledger's versions with no file are refused as
 * missing anyway (see plan.ts).
 */
function refuseUnrecognised(dir: string, recognised: number, skipped: readonly SkippedFile[]): void {
  const visible = skipped.filter((s) => !s.file.startsWith('.'));
  if (recognised > 0 || visible.length === 0) return;
  const shown = visible.slice(0, 3).map((s) => s.file).join(', ') + (visible.length > 3 ? `, … (${visible.length} entries)` : '');
  throw new UserError(
    `no migration recognised in ${dir || 'the migrations folder'} (${shown}): pgsteward reads ${LAYOUTS}`,
    'point --migrations at a sqlx migrations folder, or rename the files to that layout (e.g. 0001_create_users.sql)',
  );
}

/** Pure: the migrations among (name, bytes) pairs. */
export function parseMigrations(files: ReadonlyArray<{ name: string; bytes: Buffer }>): Migration[] {
  return parseMigrationFolder(files.map((f) => ({ name: f.name, isFile: true, read: () => f.bytes }))).migrations;
}

/**
 * Reads a migrations folder the way sqlx does: every entry, symbolic links followed, names
 * decoded lossily as sqlx does, contents as exact bytes.
 */
export function readMigrationFolder(dir: string): MigrationFolder {
  let names: Buffer[];
  try {
    names = readdirSync(dir, { encoding: 'buffer' });
  } catch {
    throw new UserError(`migrations folder ${dir} cannot be read`, 'run from the repository root or pass --migrations DIR');
  }
  const entries = names.map((raw): FolderEntry => {
    // A name that is not UTF-8 is still opened by its own bytes.
    const full = Buffer.concat([Buffer.from(dir + path.sep), raw]);
    const name = raw.toString('utf8');
    let isFile: boolean;
    try {
      isFile = statSync(full).isFile();
    } catch (e) {
      const target = (() => {
        try {
          return readlinkSync(full, 'utf8');
        } catch {
          return undefined;
        }
      })();
      if (target !== undefined) throw new UserError(`migration ${name} is a symbolic link to ${target}, which does not exist`, 'restore the file it points to, or remove the link');
      throw new UserError(`migration ${name} cannot be read: ${(e as Error).message.split('\n')[0]}`, 'check the file and its permissions');
    }
    return {
      name,
      isFile,
      read: () => {
        try {
          return readFileSync(full);
        } catch (e) {
          throw new UserError(`migration ${name} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the file and its permissions');
        }
      },
    };
  });
  return parseMigrationFolder(entries, dir);
}

/** The migrations of a folder, for callers that need nothing else. */
export function readMigrations(dir: string): Migration[] {
  return readMigrationFolder(dir).migrations;
}

/** Pure: what `status` and the migration-state check say about the folder beyond its migrations, one line each. */
export function folderNotes(f: MigrationFolder): string[] {
  const notes: string[] = [];
  if (f.reversible) {
    const n = f.migrations.length;
    const d = f.downs.length;
    notes.push(`reversible folder (.up.sql/.down.sql): the ${n} .up.sql file${n === 1 ? ' is the migration' : 's are the migrations'}; the ${d} .down.sql file${d === 1 ? ' is' : 's are'} never run (up-only)`);
  }
  if (f.skipped.length) {
    notes.push(`${f.skipped.length} entr${f.skipped.length === 1 ? 'y' : 'ies'} skipped, as sqlx skips them: ${f.skipped.map((s) => `${s.file} (${s.reason})`).join(', ')}`);
  }
  return notes;
}
