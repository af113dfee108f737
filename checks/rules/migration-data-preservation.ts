import type { Check, Finding } from '../types.ts';
import { migrationState } from '../lib/migration-state.ts';
import { destructiveStatements, typeChangesIn } from '../lib/data-preservation.ts';
import { showName } from '../lib/sql-text.ts';

const TYPES_QUERY = `
SELECT w.tbl, w.col, format_type(a.atttypid, a.atttypmod) AS type
FROM unnest($1::text[], $2::text[]) AS w(tbl, col)
JOIN pg_attribute a ON a.attrelid = to_regclass(w.tbl) AND a.attname = w.col AND a.attnum > 0 AND NOT a.attisdropped`;

export const migrationDataPreservation: Check = {
  id: 'migration-data-preservation',
  title: 'Pending migrations preserve data',
  rationale: 'Migrations preserve data by default; deleting rows, columns or tables, or narrowing a type, must be explicit and explained.',
  severity: 'error',
  async run(ctx) {
    const { pending } = await migrationState(ctx);
    if (pending.length === 0) return { passed: ['no pending migrations to review'], findings: [] };

    // Current column types, for every type change in every pending file, in one query.
    const changes = pending.flatMap((m) => typeChangesIn(m.sql));
    const types = new Map<string, string>();
    if (changes.length > 0) {
      const rows = await ctx.sql.unsafe<{ tbl: string; col: string; type: string }[]>(TYPES_QUERY, [changes.map((c) => showName(c.table)), changes.map((c) => c.column)] as never[]);
      for (const r of rows) types.set(`${r.tbl}|${r.col}`, r.type);
    }

    const passed: string[] = [];
    const findings: Finding[] = [];
    for (const m of pending) {
      const found = destructiveStatements(m.sql, (table, column) => types.get(`${showName(table)}|${column}`));
      for (const d of found) {
        const where = `${m.file}:${d.line}`;
        if (d.reason) {
          passed.push(`${where}: ${d.kind} ${d.object} allowed (destructive: ${d.reason})`);
          continue;
        }
        findings.push({
          object: where,
          message: `${d.message}${d.emptyReason ? '; the -- destructive: annotation gives no reason' : ''}`,
          fix: `keep the data (rename or copy it first, or widen instead of narrowing); if the loss is intended, put "-- destructive: <reason>" on the line above: ${d.statement}`,
        });
      }
      if (found.length === 0) passed.push(`${m.file}: no destructive statements`);
    }
    return { passed, findings };
  },
};
