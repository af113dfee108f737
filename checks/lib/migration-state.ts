import { folderNotes, readMigrationFolder, type Migration } from '../../core/migrations/files.ts';
import { readLedger } from '../../core/migrations/ledger.ts';
import { planProblems, type AppliedRow, type PlanProblem } from '../../core/migrations/plan.ts';
import type { CheckContext } from '../types.ts';

export interface MigrationState {
  local: Migration[];
  applied: AppliedRow[];
  problems: PlanProblem[];
  /** Local files the ledger has no row for: what `setup-db` would apply next. */
  pending: Migration[];
  /** What the folder is beyond its migrations (reversible, skipped entries), one line each. */
  notes: string[];
}

/** The ledger against migrations/, read once per run and shared by the migration checks. */
export function migrationState(ctx: CheckContext): Promise<MigrationState> {
  return ctx.once('migration-state', async () => {
    const folder = readMigrationFolder(ctx.migrationsDir);
    const local = folder.migrations;
    const applied = await readLedger(ctx.sql);
    const inLedger = new Set(applied.map((r) => r.version));
    const problems = planProblems(local, applied, { ignoreMissing: ctx.ignoreMissing === true });
    return { local, applied, problems, pending: local.filter((m) => !inLedger.has(m.version)), notes: folderNotes(folder) };
  });
}
