import type { Check, Finding } from '../types.ts';
import { isTable, qualifiedName, relationInScope } from '../lib/catalog.ts';
import { attempt, insertProbeRow, isUuidV7, uuidFacts } from '../lib/probe.ts';

interface Row {
  key: string;
  tbl: string;
  relname: string;
  has_pk: boolean;
  pk_width: number | null;
  pk_column: string | null;
  pk_type: string | null;
  pk_default: string | null;
  identity: string | null;
  pk_is_fk: boolean;
  unique_candidate: string | null;
}

const QUERY = `
SELECT n.nspname || '.' || c.relname AS key, ${qualifiedName()} AS tbl, c.relname,
       pk.oid IS NOT NULL AS has_pk,
       cardinality(pk.conkey) AS pk_width,
       quote_ident(a.attname) AS pk_column,
       format_type(a.atttypid, a.atttypmod) AS pk_type,
       pg_get_expr(d.adbin, d.adrelid) AS pk_default,
       nullif(a.attidentity::text, '') AS identity,
       EXISTS (SELECT 1 FROM pg_constraint f WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.conkey = pk.conkey) AS pk_is_fk,
       (SELECT quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
         WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
           AND NOT EXISTS (SELECT 1 FROM pg_attribute ka WHERE ka.attrelid = c.oid
                            AND ka.attnum = ANY (string_to_array(i.indkey::text, ' ')::int2[]) AND NOT ka.attnotnull)
         ORDER BY i.indnatts, ic.relname LIMIT 1) AS unique_candidate
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND cardinality(pk.conkey) = 1 AND a.attnum = pk.conkey[1]
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE ${isTable()} AND ${relationInScope('$1', '$2')}
ORDER BY 1`;

/** `uuid_generate_v7()`, `public.uuid_generate_v7()` or `uuidv7()`, for the configured function names. */
export function isV7Default(expr: string | null, functions: readonly string[]): boolean {
  if (!expr) return false;
  const m = /^(?:(?:"[^"]+"|[a-z_][a-z0-9_$]*)\.)?([a-z_][a-z0-9_$]*)\(\)$/.exec(expr.trim());
  return Boolean(m && functions.includes(m[1]!));
}

export const primaryKeys: Check = {
  id: 'primary-keys',
  title: 'Primary keys are UUIDv7',
  rationale: 'Every row needs a stable identity; time-ordered UUIDv7 keys index well and never collide across systems.',
  severity: 'error',
  async run(ctx) {
    const ex = ctx.expectations;
    const fn = ex.uuidV7Functions[0] ?? 'uuid_generate_v7';
    const rows = await ctx.sql.unsafe<Row[]>(QUERY, [ex.schemas ?? null, ex.ignoreTables] as never[]);
    const passed: string[] = [];
    const findings: Finding[] = [];
    const defaults = new Set<string>();
    const uuidKeyed = new Map<string, Row>();

    for (const r of rows) {
      if (!r.has_pk) {
        findings.push({
          object: r.tbl,
          message: `table ${r.tbl} has no primary key`,
          fix: r.unique_candidate
            ? `ALTER TABLE ${r.tbl} ADD CONSTRAINT ${r.relname}_pkey PRIMARY KEY USING INDEX ${r.unique_candidate};`
            : `ALTER TABLE ${r.tbl} ADD COLUMN id uuid NOT NULL DEFAULT ${fn}() PRIMARY KEY;`,
        });
      } else if (r.pk_width !== 1 || r.pk_is_fk) {
        passed.push(`${r.tbl}: ${r.pk_width === 1 ? 'primary key is also a foreign key' : `composite primary key (${r.pk_width} columns)`}`);
      } else if (r.pk_type === 'uuid') {
        if (isV7Default(r.pk_default, ex.uuidV7Functions)) {
          defaults.add(r.pk_default!);
          uuidKeyed.set(r.key, r);
          passed.push(`${r.tbl}: ${r.pk_column} uuid DEFAULT ${r.pk_default}`);
        } else {
          findings.push({
            object: `${r.tbl}.${r.pk_column}`,
            message: `primary key ${r.tbl}.${r.pk_column} ${r.pk_default ? `defaults to ${r.pk_default}` : 'has no default'}, not ${fn}()`,
            fix: `ALTER TABLE ${r.tbl} ALTER COLUMN ${r.pk_column} SET DEFAULT ${fn}();`,
          });
        }
      } else if (ex.requireUuidKeys) {
        findings.push({
          object: `${r.tbl}.${r.pk_column}`,
          message: `primary key ${r.tbl}.${r.pk_column} is ${r.pk_type}${r.identity ? ' (identity)' : ''}, not uuid DEFAULT ${fn}()`,
          fix: `ALTER TABLE ${r.tbl} ADD COLUMN ${r.relname}_uuid uuid NOT NULL DEFAULT ${fn}() UNIQUE; -- then repoint foreign keys to it and make it the primary key`,
        });
      } else {
        passed.push(`${r.tbl}: ${r.pk_column} ${r.pk_type} primary key`);
      }
    }

    // Behaviour, not just text: call each default once, and insert the configured probe rows.
    const probeTables = Object.entries(ex.probeRows).filter(([t]) => uuidKeyed.has(t));
    if (defaults.size > 0 || probeTables.length > 0) {
      await ctx.probe(async (tx) => {
        const exprs = [...defaults];
        if (exprs.length > 0) {
          const values = exprs.map((e, i) => `(${i}, (${e})::uuid)`).join(', ');
          const facts = await tx.unsafe<{ i: number; u: string; version: number; variant: number; skew_seconds: number }[]>(
            `SELECT i, u::text AS u, ${uuidFacts('u')} FROM (VALUES ${values}) v(i, u) ORDER BY i`,
          );
          for (const f of facts) {
            const expr = exprs[f.i]!;
            if (isUuidV7(f)) passed.push(`${expr} returns version-7 uuids`);
            else
              findings.push({
                object: expr,
                message: `${expr} returned ${f.u} (version ${f.version}, variant ${f.variant}, ${f.skew_seconds} s from the server clock), not a UUIDv7`,
                fix: `CREATE EXTENSION IF NOT EXISTS pg_uuidv7; -- or install the portable ${fn}() from migrations/0001`,
              });
          }
        }
        for (const [key, row] of probeTables) {
          const r = uuidKeyed.get(key)!;
          const ins = insertProbeRow(r.tbl, row, uuidFacts(r.pk_column!) + `, ${r.pk_column}::text AS u`);
          const got = await attempt(tx, (sp) => sp.unsafe<{ version: number; variant: number; skew_seconds: number; u: string }[]>(ins.text, ins.params));
          if (!got.ok) {
            findings.push({
              object: r.tbl,
              message: `probe insert into ${r.tbl} failed: ${got.message}`,
              fix: `fix the probe row for ${key} in checks/expectations.ts, or the table's constraints`,
              severity: 'warning',
            });
          } else if (isUuidV7(got.value[0]!)) {
            passed.push(`${r.tbl}: a probe insert got a version-7 id`);
          } else {
            findings.push({
              object: `${r.tbl}.${r.pk_column}`,
              message: `a probe insert into ${r.tbl} got id ${got.value[0]!.u}, which is not a UUIDv7 (a trigger or rule may replace it)`,
              fix: `ALTER TABLE ${r.tbl} ALTER COLUMN ${r.pk_column} SET DEFAULT ${fn}();`,
            });
          }
        }
      });
    }
    return { passed, findings };
  },
};
