import { UserError } from '../errors.ts';
import { localVersions, migrationsOf, type Migration, type MigrationSource } from './files.ts';

/** A row of `_sqlx_migrations`, as far as planning needs it. */
export interface AppliedRow {
  version: bigint;
  checksum: Buffer;
  success: boolean;
  description?: string;
}

export interface PlanOptions {
  /**
   * sqlx's `--ignore-missing` / `Migrator::set_ignore_missing(true)`: an applied version with
   * no local file is passed over instead of refused. Drift and dirty rows are still refused.
   */
  ignoreMissing?: boolean | undefined;
}

export interface Plan {
  applied: Migration[];
  pending: Migration[];
  /** Applied versions with no local file (from `plan`: only those `ignoreMissing` passed over). */
  missing: AppliedRow[];
}

export interface PlanProblem {
  kind: 'dirty' | 'missing' | 'drift';
  version: bigint;
  file?: string;
  message: string;
  fix: string;
}

/**
 * Compares the ledger with the local files, as sqlx's `Migrator::run` does: a dirty row, an
 * applied version with no file of any kind (a `.down.sql` counts, as in sqlx), and an applied
 * file whose checksum changed. Pure; the runner refuses to apply anything if this finds a problem.
 */
export function planProblems(source: MigrationSource, applied: readonly AppliedRow[], opts: PlanOptions = {}): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const byVersion = new Map(migrationsOf(source).map((m) => [m.version, m]));
  const present = localVersions(source);
  for (const row of applied) {
    const m = byVersion.get(row.version);
    if (!row.success) {
      problems.push({
        kind: 'dirty',
        version: row.version,
        file: m?.file,
        message: `migration ${row.version}${m ? ` (${m.file})` : ''} is marked failed (success = false) in _sqlx_migrations`,
        fix: 'repair the schema by hand, then delete that ledger row and run setup-db again',
      });
    } else if (!present.has(row.version)) {
      if (opts.ignoreMissing) continue;
      problems.push({
        kind: 'missing',
        version: row.version,
        message: `migration ${row.version}${row.description ? ` (${row.description})` : ''} is applied but has no file in the migrations folder`,
        fix: 'restore the file from version control (applied migrations are never deleted), or pass --ignore-missing if it was removed on purpose',
      });
    } else if (m && !m.checksum.equals(row.checksum)) {
      problems.push({
        kind: 'drift',
        version: row.version,
        file: m.file,
        message: `migration ${row.version} (${m.file}) was changed after it was applied (checksum differs)`,
        fix: 'restore the file as applied and put the change in a new migration',
      });
    }
  }
  return problems;
}

/** Applied and pending migrations; refuses (one line, the first problem) when the ledger and the files disagree. */
export function plan(source: MigrationSource, applied: readonly AppliedRow[], opts: PlanOptions = {}): Plan {
  const problems = planProblems(source, applied, opts);
  if (problems.length > 0) {
    const p = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    throw new UserError(`refusing to migrate: ${p.message}${more}`, p.fix);
  }
  return split(source, applied);
}

/** Pure: the split alone, whatever the problems; for reports that show state rather than refuse. */
export function split(source: MigrationSource, applied: readonly AppliedRow[]): Plan {
  const local = migrationsOf(source);
  const done = new Set(applied.map((r) => r.version));
  const present = localVersions(source);
  return {
    applied: local.filter((m) => done.has(m.version)),
    pending: local.filter((m) => !done.has(m.version)),
    missing: applied.filter((r) => r.success && !present.has(r.version)),
  };
}
