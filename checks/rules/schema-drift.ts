import { detectDrift, type DriftReport } from '../../core/drift/index.ts';
import { UserError } from '../../core/errors.ts';
import { readMigrations } from '../../core/migrations/files.ts';
import { counted } from '../lib/passing.ts';
import { ADOPTION_GUIDE, readOwnership } from '../lib/adoption.ts';
import type { Check, CheckContext, CheckOutcome, Finding } from '../types.ts';

/**
 * A thin adapter over core/drift: the engine builds the reference where the target's kind
 * allows (a scratch database on the same server for local and dev, an ephemeral cluster for
 * prod), compares, and removes the reference; this file turns its report into findings.
 */

/** How the report names the object types it counted, in the plural. */
const NAMES: Record<string, [singular: string, plural: string]> = {
  index: ['index', 'indexes'],
  'default privileges': ['default privilege set', 'default privilege sets'],
  'role settings': ["role's settings", "roles' settings"],
};
const named = (n: number, type: string) => counted(n, NAMES[type]?.[0] ?? type, NAMES[type]?.[1] ?? `${type}s`);

/** Where the reference was built, for the passed lines. */
export function referencePlace(r: Pick<DriftReport, 'reference'>): string {
  return r.reference.kind === 'scratch-database' ? 'a scratch database on the same server' : `an ephemeral PostgreSQL ${r.reference.version} cluster`;
}

/**
 * Pure: one error finding per drifted object (never mechanically fixable: a person decides
 * which side is right), a warning per part of the database the comparison could not cover,
 * and one passed subject per object type whose objects all match.
 */
export function judgeDrift(r: Pick<DriftReport, 'findings' | 'notes' | 'reference' | 'migrationsApplied' | 'objectTypes'>): CheckOutcome {
  const findings: Finding[] = r.findings.map((f) => ({
    object: f.object,
    // The report prints `object: message`; a change's message starts with the object already.
    message: f.message.startsWith(`${f.object}: `) ? f.message.slice(f.object.length + 2) : f.message,
    fix: f.fix,
    fixable: false,
    drift: { kind: f.kind, objectType: f.objectType, fields: f.fields, migrationSql: f.migrationSql, restoreSql: f.restoreSql },
  }));
  for (const note of r.notes) {
    findings.push({
      object: 'migrations',
      message: `not compared: ${note}`,
      fix: 'see the migration-state check, which says how to apply them here',
      severity: 'warning',
    });
  }
  const drifted = new Set(r.findings.map((f) => f.objectType));
  const where = `${counted(r.migrationsApplied, 'migration')}, reference on ${referencePlace(r)}`;
  const passed = r.objectTypes.filter((t) => !drifted.has(t.type)).map((t) => `${named(t.live, t.type)}: as the migrations build them (${where})`);
  return { passed, passedCount: passed.length, findings };
}

export async function runDrift(ctx: CheckContext): Promise<DriftReport> {
  if (!ctx.roles) {
    throw new UserError(`cannot derive role names from database name "${ctx.database.slice(0, 64)}"`, 'pass --roles-of NAME with the database whose roles apply');
  }
  return detectDrift({
    kind: ctx.target.kind,
    admin: ctx.target.admin,
    binDir: ctx.target.binDir,
    database: ctx.database,
    migrations: readMigrations(ctx.migrationsDir),
    roles: ctx.roles,
    onLiveQuery: (text) => ctx.recordQuery(text),
  });
}

export const schemaDrift: Check = {
  id: 'schema-drift',
  title: 'The live database is exactly what its migrations build',
  rationale: 'The ledger says which migrations ran, not what happened after: an index dropped by hand, a GRANT from a console, a function replaced, a table no migration created.',
  severity: 'error',
  async run(ctx) {
    // Drift is measured against the migrations the ledger says built the database; a database
    // another tool migrates has no such ledger, and comparing it with a folder would call every
    // table drift. Said as what was not compared, not as a defect.
    if (!(await readOwnership(ctx)).ledger) {
      return {
        passed: [],
        findings: [
          {
            object: 'migrations',
            message: 'not compared: the database has no _sqlx_migrations ledger, so no migrations folder is known to have built it',
            fix: `if sqlx migrations build it, see ${ADOPTION_GUIDE}; otherwise skip this check (--skip schema-drift)`,
            severity: 'warning',
          },
        ],
      };
    }
    return judgeDrift(await runDrift(ctx));
  },
};
