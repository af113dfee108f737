import type { Check, Finding } from '../types.ts';
import { isTable, qualifiedName, relationInScope } from '../lib/catalog.ts';
import { attempt, insertProbeRow } from '../lib/probe.ts';

interface Trigger {
  name: string;
  row: boolean;
  before: boolean;
  update: boolean;
  /** BEFORE UPDATE OF col, …: fires only when those columns are assigned. */
  columns: boolean;
  enabled: boolean;
  function: string;
  /** Its function assigns NEW.<column> (PL/pgSQL), or it is moddatetime(<column>). */
  sets: boolean;
}

interface Row {
  key: string;
  tbl: string;
  relname: string;
  column: string | null;
  triggers: Trigger[];
}

/** One row per table that has the column or carries a trigger that sets it. */
const QUERY = `
SELECT * FROM (
  SELECT n.nspname || '.' || c.relname AS key, ${qualifiedName()} AS tbl, c.relname,
         quote_ident(a.attname) AS column,
         (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'name', quote_ident(t.tgname),
                   'row', (t.tgtype & 1) <> 0,
                   'before', (t.tgtype & 2) <> 0,
                   'update', (t.tgtype & 16) <> 0,
                   'columns', t.tgattr::text <> '',
                   'enabled', t.tgenabled <> 'D',
                   'function', p.oid::regproc::text,
                   'sets', (p.prosrc ~* $4) OR (p.proname = 'moddatetime' AND t.tgnargs > 0
                             AND split_part(encode(t.tgargs, 'escape'), '\\000', 1) = $3))
                 ORDER BY t.tgname), '[]'::jsonb)
            FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
           WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS triggers
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $3 AND a.attnum > 0 AND NOT a.attisdropped
  WHERE ${isTable()} AND ${relationInScope('$1', '$2')}
) t
WHERE t.column IS NOT NULL OR t.triggers @> '[{"sets": true}]'
ORDER BY 2`;

/** A case-insensitive regex for `NEW.updated_at :=` (or `=`), quoting allowed. */
export function assignmentPattern(column: string): string {
  const c = column.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return `\\mnew\\s*\\.\\s*"?${c}"?\\s*:?=`;
}

const STALE = '2000-01-01 00:00:00+00';

export const updatedAtTriggers: Check = {
  id: 'updated-at-triggers',
  title: 'updated_at is kept by triggers',
  rationale: 'A BEFORE UPDATE trigger is the only way no code path can forget updated_at; on a table without the column it breaks every UPDATE.',
  severity: 'error',
  async run(ctx) {
    const ex = ctx.expectations;
    const col = ex.updatedAt.column;
    const rows = await ctx.sql.unsafe<Row[]>(QUERY, [ex.schemas ?? null, ex.ignoreTables, col, assignmentPattern(col)] as never[]);
    const passed: string[] = [];
    const findings: Finding[] = [];

    // The fix names the function the other tables already use, or the configured one.
    const used = new Map<string, number>();
    for (const r of rows) for (const t of r.triggers) if (t.sets) used.set(t.function, (used.get(t.function) ?? 0) + 1);
    const fn = [...used.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? ex.updatedAt.function;
    const create = (r: Row) => `CREATE TRIGGER ${r.relname}_set_${col} BEFORE UPDATE ON ${r.tbl} FOR EACH ROW EXECUTE FUNCTION ${fn}();`;
    const probeable: Row[] = [];
    if (rows.length === 0) passed.push(`no table has a ${col} column or a trigger that sets one`);

    for (const r of rows) {
      const setters = r.triggers.filter((t) => t.sets && t.update);
      if (!r.column) {
        for (const t of r.triggers.filter((t) => t.sets)) {
          findings.push({
            object: `${r.tbl}.${t.name}`,
            message: `trigger ${t.name} on ${r.tbl} sets ${col}, but ${r.tbl} has no ${col} column, so ${t.update ? 'every UPDATE' : 'every statement it fires on'} fails`,
            fix: `DROP TRIGGER ${t.name} ON ${r.tbl};`,
          });
        }
        continue;
      }
      const good = setters.filter((t) => t.row && t.before && !t.columns);
      if (good.some((t) => t.enabled)) {
        passed.push(`${r.tbl}: ${good.find((t) => t.enabled)!.name} sets ${r.column} before every update`);
        probeable.push(r);
      } else if (good.length > 0) {
        findings.push({
          object: `${r.tbl}.${good[0]!.name}`,
          message: `trigger ${good[0]!.name} on ${r.tbl} would set ${r.column} but is disabled`,
          fix: `ALTER TABLE ${r.tbl} ENABLE TRIGGER ${good[0]!.name};`,
        });
      } else if (setters.length > 0) {
        const t = setters[0]!;
        const why = !t.before ? 'runs AFTER the row is written, so its assignment is lost' : !t.row ? 'is FOR EACH STATEMENT and has no row to change' : 'fires only when particular columns are assigned';
        findings.push({
          object: `${r.tbl}.${t.name}`,
          message: `trigger ${t.name} on ${r.tbl} ${why}`,
          fix: `DROP TRIGGER ${t.name} ON ${r.tbl}; ${create(r)}`,
        });
      } else {
        findings.push({
          object: r.tbl,
          message: `${r.tbl} has a ${r.column} column but no BEFORE UPDATE FOR EACH ROW trigger that sets it`,
          fix: create(r),
        });
      }
    }

    // Behaviour: an UPDATE that does not set the column must still move it.
    const probes = probeable.filter((r) => ex.probeRows[r.key]);
    if (probes.length > 0) {
      await ctx.probe(async (tx) => {
        for (const r of probes) {
          const row = { ...ex.probeRows[r.key]!, [col]: STALE };
          const ins = insertProbeRow(r.tbl, row, `ctid::text AS ctid, ${r.column}::text AS before`);
          const got = await attempt(tx, async (sp) => {
            const [inserted] = await sp.unsafe<{ ctid: string; before: string }[]>(ins.text, ins.params);
            const [updated] = await sp.unsafe<{ moved: boolean; after: string }[]>(
              `UPDATE ${r.tbl} SET ${r.column} = ${r.column} WHERE ctid = $1::tid RETURNING ${r.column} > $2 AS moved, ${r.column}::text AS after`,
              [inserted!.ctid, STALE],
            );
            return { before: inserted!.before, ...updated! };
          });
          if (!got.ok) {
            findings.push({
              object: r.tbl,
              message: `probe on ${r.tbl} could not insert and update a row: ${got.message}`,
              fix: `fix the probe row for ${r.key} in checks/expectations.ts`,
              severity: 'warning',
            });
          } else if (got.value.moved) {
            passed.push(`${r.tbl}: a probe UPDATE moved ${r.column} from ${got.value.before} to ${got.value.after}`);
          } else {
            findings.push({
              object: r.tbl,
              message: `a probe UPDATE on ${r.tbl} left ${r.column} at ${got.value.after}: the trigger does not move it`,
              fix: `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.${col} := now(); RETURN NEW; END $$;`,
            });
          }
        }
      });
    }
    return { passed, findings };
  },
};
