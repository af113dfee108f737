import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';

/** One migration file, described exactly as sqlx describes it. */
export interface Migration {
  version: bigint;
  description: string;
  file: string;
  sql: string;
  /** SHA-384 of the file's exact bytes, as sqlx stores it in `_sqlx_migrations.checksum`. */
  checksum: Buffer;
  /** sqlx runs a file that starts with `-- no-transaction` outside a transaction. */
  noTransaction: boolean;
}

const NAME = /^(\d+)_(.+)\.sql$/;
const MAX_I64 = (1n << 63n) - 1n;

export function sha384(bytes: Uint8Array): Buffer {
  return createHash('sha384').update(bytes).digest();
}

/** sqlx's description: the part after the first `_`, `.sql` removed, `_` as spaces. */
export function describeFileName(file: string): { version: bigint; description: string } {
  if (/\.(up|down)\.sql$/.test(file)) {
    throw new UserError(`migration ${file} is a reversible (.up/.down) file`, 'this project is up-only: name it <version>_<description>.sql');
  }
  const m = NAME.exec(file);
  if (!m) {
    throw new UserError(`migration file name "${file}" is malformed`, 'name it <version>_<description>.sql, e.g. 0005_add_sessions.sql');
  }
  const version = BigInt(m[1]!);
  if (version < 1n || version > MAX_I64) {
    throw new UserError(`migration ${file} has version ${m[1]} outside 1..2^63-1`, 'use a positive version that fits in a BIGINT');
  }
  return { version, description: m[2]!.replace(/_/g, ' ') };
}

/** Builds the migration list from (name, bytes) pairs; refuses malformed names and duplicate versions. */
export function parseMigrations(files: ReadonlyArray<{ name: string; bytes: Buffer }>): Migration[] {
  const out: Migration[] = [];
  const seen = new Map<bigint, string>();
  for (const { name, bytes } of files) {
    const { version, description } = describeFileName(name);
    const prior = seen.get(version);
    if (prior) {
      throw new UserError(`migration version ${version} is used twice: ${prior} and ${name}`, 'give one of them the next free version number');
    }
    seen.set(version, name);
    const sql = bytes.toString('utf8');
    out.push({ version, description, file: name, sql, checksum: sha384(bytes), noTransaction: sql.startsWith('-- no-transaction') });
  }
  return out.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

/** Reads a migrations folder the way sqlx does: `.sql` files only, dotfiles ignored. */
export function readMigrations(dir: string): Migration[] {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.sql') && !d.name.startsWith('.'))
      .map((d) => d.name);
  } catch {
    throw new UserError(`migrations folder ${dir} cannot be read`, 'run from the repository root or pass --migrations DIR');
  }
  return parseMigrations(names.map((name) => ({ name, bytes: readFileSync(path.join(dir, name)) })));
}
