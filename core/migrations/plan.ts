import { UserError } from '../errors.ts';
import type { Migration } from './files.ts';

/** A row of `_sqlx_migrations`, as far as planning needs it. */
export interface AppliedRow {
  version: bigint;
  checksum: Buffer;
  success: boolean;
  description?: string;
}

export interface Plan {
  applied: Migration[];
  pending: Migration[];
}

export interface PlanProblem {
  kind: 'dirty' | 'missing' | 'drift';
  version: bigint;
  file?: string;
  message: string;
  fix: string;
}

/** Compares the ledger with the local files. Pure; the runner refuses to apply anything if this finds a problem. */
export function planProblems(local: readonly Migration[], applied: readonly AppliedRow[]): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const byVersion = new Map(local.map((m) => [m.version, m]));
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
    } else if (!m) {
      problems.push({
        kind: 'missing',
        version: row.version,
        message: `migration ${row.version}${row.description ? ` (${row.description})` : ''} is applied but has no file in migrations/`,
        fix: 'restore the missing file from version control; applied migrations are never deleted',
      });
    } else if (!m.checksum.equals(row.checksum)) {
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

export function plan(local: readonly Migration[], applied: readonly AppliedRow[]): Plan {
  const problems = planProblems(local, applied);
  if (problems.length > 0) {
    const p = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    throw new UserError(`refusing to migrate: ${p.message}${more}`, p.fix);
  }
  const done = new Set(applied.map((r) => r.version));
  return {
    applied: local.filter((m) => done.has(m.version)),
    pending: local.filter((m) => !done.has(m.version)),
  };
}
