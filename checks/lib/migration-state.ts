import { readMigrations, type Migration } from '../../core/migrations/files.ts';
import { readLedger } from '../../core/migrations/ledger.ts';
import { planProblems, type AppliedRow, type PlanProblem } from '../../core/migrations/plan.ts';
import type { CheckContext } from '../types.ts';

export interface MigrationState {
  local: Migration[];
  applied: AppliedRow[];
  problems: PlanProblem[];
  /** Local files the ledger has no row for: what `setup-db` would apply next. */
  pending: Migration[];
}

/** The ledger against migrations/, read once per run and shared by the migration checks. */
export function migrationState(ctx: CheckContext): Promise<MigrationState> {
  return ctx.once('migration-state', async () => {
    const local = readMigrations(ctx.migrationsDir);
    const applied = await readLedger(ctx.sql);
    const inLedger = new Set(applied.map((r) => r.version));
    return { local, applied, problems: planProblems(local, applied), pending: local.filter((m) => !inLedger.has(m.version)) };
  });
}
