import type { Check, CheckContext, CheckOutcome, Finding, ProbeSql } from '../types.ts';
import { isTable, relationInScope } from '../lib/catalog.ts';
import { derivedIdent, derivedName } from '../lib/identifiers.ts';
import { counted, mergeOutcomes, passingLines } from '../lib/passing.ts';
import { attempt, insertProbeRow, isUuidV7, uuidFacts, type Attempt } from '../lib/probe.ts';
import { escapeRegExp } from '../lib/regexp.ts';
import type { Expectations } from '../expectations.ts';

/** Why a table's key passes, decided in SQL; null: it does not. */
export type PassingKind = 'v7' | 'composite' | 'foreign' | 'other';

export interface KeyRow {
  key: string;
  tbl: string;
  relname: string;
  passing: PassingKind | null;
  has_pk: boolean;
  pk_width: number | null;
  pk_column: string | null;
  pk_type: string | null;
  pk_default: string | null;
  identity: string | null;
  pk_is_fk: boolean;
  /** For a table without a key: a unique index that could become it. */
  unique_candidate: string | null;
  /** Promoting that index would give a key this check accepts. */
  candidate_passes: boolean | null;
}

export interface KeyFacts {
  /** Passing tables counted by kind; `detail` is the default (v7) or the type (other). */
  groups: Array<{ kind: PassingKind; detail: string | null; count: number }>;
  /** Failing tables; the passing ones too when listing, and the v7-keyed tables that have probe rows. */
  rows: KeyRow[];
}

/**
 * A default the check accepts: a configured function called with no arguments, schema prefix
 * allowed. One pattern, read by PostgreSQL's regex engine in the query and by JavaScript's here.
 */
export function v7DefaultPattern(functions: readonly string[]): string {
  if (functions.length === 0) return '^$';
  return `^(("[^"]+"|[a-z_][a-z0-9_$]*)\\.)?(${functions.map(escapeRegExp).join('|')})\\(\\)$`;
}

/** `uuid_generate_v7()`, `public.uuid_generate_v7()` or `uuidv7()`, for the configured function names. */
export function isV7Default(expr: string | null, functions: readonly string[]): boolean {
  return expr !== null && new RegExp(v7DefaultPattern(functions)).test(expr.trim());
}

/**
 * $3 the v7 default pattern, $4 non-uuid keys fail, $5 list passing tables, $6 tables with
 * probe rows. Defaults are deparsed with relation 0: a default cannot refer to a column (a
 * generation expression can, and keeps its relation), and naming the relation would make
 * PostgreSQL open every table in the schema to deparse it.
 */
export const QUERY = `
WITH t AS (
  SELECT c.oid, n.nspname, c.relname, pk.oid IS NOT NULL AS has_pk, cardinality(pk.conkey) AS pk_width,
         a.attname, a.atttypid, a.atttypmod, a.attidentity, a.pk_default,
         EXISTS (SELECT 1 FROM pg_constraint f WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.conkey = pk.conkey) AS pk_is_fk
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
  -- OFFSET 0 keeps this a lookup by (attrelid, attnum) per table, not a scan of every column in the database.
  LEFT JOIN LATERAL (
    SELECT a.attname, a.atttypid, a.atttypmod, a.attidentity,
           btrim(CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, 0) ELSE pg_get_expr(d.adbin, d.adrelid) END) AS pk_default
    FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = c.oid AND a.attnum = pk.conkey[1] AND cardinality(pk.conkey) = 1
    OFFSET 0
  ) a ON true
  WHERE ${isTable()} AND ${relationInScope('$1', '$2')}
),
-- Thousands of keys, a handful of distinct defaults: match each default once.
defaults AS (
  SELECT d.pk_default, d.pk_default ~ $3 AS v7 FROM (SELECT DISTINCT pk_default FROM t WHERE pk_default IS NOT NULL) d
),
judged AS (
  SELECT t.*,
         CASE WHEN NOT t.has_pk THEN NULL
              WHEN t.pk_width <> 1 THEN 'composite'
              WHEN t.pk_is_fk THEN 'foreign'
              WHEN t.atttypid = 'uuid'::regtype THEN CASE WHEN dv.v7 THEN 'v7' END
              WHEN NOT $4 THEN 'other'
         END AS passing
  FROM t LEFT JOIN defaults dv ON dv.pk_default = t.pk_default
),
candidates AS (
  SELECT j.oid, ic.relname, i.indnkeyatts, i.indkey, row_number() OVER (PARTITION BY j.oid ORDER BY i.indnatts, ic.relname) AS rank
  FROM judged j
  JOIN pg_index i ON i.indrelid = j.oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
  JOIN pg_class ic ON ic.oid = i.indexrelid
  WHERE NOT j.has_pk
    AND NOT EXISTS (SELECT 1 FROM pg_attribute ka WHERE ka.attrelid = j.oid
                     AND ka.attnum = ANY (string_to_array(i.indkey::text, ' ')::int2[]) AND NOT ka.attnotnull)
)
SELECT
  coalesce((SELECT jsonb_agg(jsonb_build_object('kind', g.passing, 'detail', g.detail, 'count', g.n) ORDER BY g.passing, g.detail)
              FROM (SELECT passing, CASE passing WHEN 'v7' THEN pk_default WHEN 'other' THEN format_type(atttypid, atttypmod) END AS detail,
                           count(*)::int AS n
                      FROM judged WHERE passing IS NOT NULL GROUP BY 1, 2) g), '[]'::jsonb) AS groups,
  coalesce((SELECT jsonb_agg(jsonb_build_object(
              'key', j.nspname || '.' || j.relname,
              'tbl', format('%I.%I', j.nspname, j.relname),
              'relname', j.relname,
              'passing', j.passing,
              'has_pk', j.has_pk,
              'pk_width', j.pk_width,
              'pk_column', quote_ident(j.attname),
              'pk_type', format_type(j.atttypid, j.atttypmod),
              'pk_default', j.pk_default,
              'identity', nullif(j.attidentity::text, ''),
              'pk_is_fk', j.pk_is_fk,
              'unique_candidate', quote_ident(k.relname),
              'candidate_passes', CASE WHEN k.relname IS NOT NULL THEN k.indnkeyatts > 1 OR NOT $4 OR EXISTS (
                  SELECT 1 FROM pg_attribute ka JOIN pg_attrdef kd ON kd.adrelid = ka.attrelid AND kd.adnum = ka.attnum
                   WHERE ka.attrelid = j.oid AND ka.attnum = k.indkey[0] AND ka.atttypid = 'uuid'::regtype
                     AND btrim(CASE WHEN ka.attgenerated = '' THEN pg_get_expr(kd.adbin, 0) ELSE pg_get_expr(kd.adbin, kd.adrelid) END) ~ $3) END)
              ORDER BY j.nspname || '.' || j.relname)
              FROM judged j LEFT JOIN candidates k ON k.oid = j.oid AND k.rank = 1
             WHERE j.passing IS NULL OR $5 OR (j.passing = 'v7' AND j.nspname || '.' || j.relname = ANY ($6::text[]))), '[]'::jsonb) AS rows`;

/** What the rolled-back probe must try: each accepted default once, and an insert into each table with a probe row. */
export interface KeyProbePlan {
  defaults: string[];
  inserts: Array<{ row: KeyRow; values: Record<string, string> }>;
}

function passingLine(r: KeyRow): string {
  if (r.passing === 'composite') return `${r.tbl}: composite primary key (${r.pk_width} columns)`;
  if (r.passing === 'foreign') return `${r.tbl}: primary key is also a foreign key`;
  if (r.passing === 'v7') return `${r.tbl}: ${r.pk_column} uuid DEFAULT ${r.pk_default}`;
  return `${r.tbl}: ${r.pk_column} ${r.pk_type} primary key`;
}

function groupLine(g: KeyFacts['groups'][number]): (n: number) => string {
  const tables = (n: number) => counted(n, 'table');
  switch (g.kind) {
    case 'v7':
      return (n) => `${tables(n)}: uuid primary key DEFAULT ${g.detail}`;
    case 'composite':
      return (n) => `${tables(n)}: composite primary key`;
    case 'foreign':
      return (n) => `${tables(n)}: primary key is also a foreign key`;
    default:
      return (n) => `${tables(n)}: ${g.detail} primary key`;
  }
}

/** Pure: findings for the failing tables, passed lines, and what the probe must try. */
export function judgeKeys(facts: KeyFacts, ex: Pick<Expectations, 'uuidV7Functions' | 'probeRows'>, verbose: boolean): CheckOutcome & { plan: KeyProbePlan } {
  const fn = ex.uuidV7Functions[0] ?? 'uuid_generate_v7';
  const findings: Finding[] = [];
  const listed: string[] = [];
  for (const r of facts.rows) {
    if (r.passing) {
      listed.push(passingLine(r));
    } else if (!r.has_pk) {
      findings.push(
        r.unique_candidate
          ? {
              object: r.tbl,
              message: `table ${r.tbl} has no primary key`,
              fix: `ALTER TABLE ${r.tbl} ADD CONSTRAINT ${derivedIdent(derivedName(r.relname, [], 'pkey'))} PRIMARY KEY USING INDEX ${r.unique_candidate};`,
              // A natural key would only trade this finding for "not uuid"; a person chooses then.
              fixable: r.candidate_passes === true,
            }
          : {
              object: r.tbl,
              message: `table ${r.tbl} has no primary key`,
              // A new column with a volatile default rewrites the table under an exclusive lock.
              fix: `ALTER TABLE ${r.tbl} ADD COLUMN id uuid NOT NULL DEFAULT ${fn}() PRIMARY KEY;`,
            },
      );
    } else if (r.pk_type === 'uuid') {
      findings.push({
        object: `${r.tbl}.${r.pk_column}`,
        message: `primary key ${r.tbl}.${r.pk_column} ${r.pk_default ? `defaults to ${r.pk_default}` : 'has no default'}, not ${fn}()`,
        fix: `ALTER TABLE ${r.tbl} ALTER COLUMN ${r.pk_column} SET DEFAULT ${fn}();`,
        fixable: true,
      });
    } else {
      findings.push({
        object: `${r.tbl}.${r.pk_column}`,
        message: `primary key ${r.tbl}.${r.pk_column} is ${r.pk_type}${r.identity ? ' (identity)' : ''}, not uuid DEFAULT ${fn}()`,
        fix: `ALTER TABLE ${r.tbl} ADD COLUMN ${r.relname}_uuid uuid NOT NULL DEFAULT ${fn}() UNIQUE; -- then repoint foreign keys to it and make it the primary key`,
      });
    }
  }
  const v7Keyed = new Map(facts.rows.filter((r) => r.passing === 'v7').map((r) => [r.key, r]));
  const plan: KeyProbePlan = {
    defaults: facts.groups.filter((g) => g.kind === 'v7' && g.detail).map((g) => g.detail!),
    inserts: Object.entries(ex.probeRows)
      .filter(([t]) => v7Keyed.has(t))
      .map(([t, values]) => ({ row: v7Keyed.get(t)!, values })),
  };
  const groups = facts.groups.map((g) => ({ count: g.count, line: groupLine(g) }));
  return { ...passingLines(verbose, listed, groups), findings, plan };
}

type UuidFacts = { version: number; variant: number; skew_seconds: number; u: string };

export interface KeyProbeResults {
  defaults: Array<{ expr: string } & UuidFacts>;
  inserts: Array<{ row: KeyRow; got: Attempt<UuidFacts> }>;
}

/** Calls each default once and inserts each probe row, inside the rolled-back probe transaction. */
export async function probeKeys(tx: ProbeSql, plan: KeyProbePlan): Promise<KeyProbeResults> {
  const results: KeyProbeResults = { defaults: [], inserts: [] };
  if (plan.defaults.length > 0) {
    const values = plan.defaults.map((e, i) => `(${i}, (${e})::uuid)`).join(', ');
    const facts = await tx.unsafe<Array<{ i: number } & UuidFacts>>(`SELECT i, u::text AS u, ${uuidFacts('u')} FROM (VALUES ${values}) v(i, u) ORDER BY i`);
    results.defaults = facts.map((f) => ({ expr: plan.defaults[f.i]!, version: f.version, variant: f.variant, skew_seconds: f.skew_seconds, u: f.u }));
  }
  for (const { row, values } of plan.inserts) {
    const ins = insertProbeRow(row.tbl, values, `${uuidFacts(row.pk_column!)}, ${row.pk_column}::text AS u`);
    const got = await attempt(tx, async (sp) => (await sp.unsafe<UuidFacts[]>(ins.text, ins.params))[0]!);
    results.inserts.push({ row, got });
  }
  return results;
}

/** Pure: what the probe proved. */
export function judgeKeyProbes(results: KeyProbeResults, ex: Pick<Expectations, 'uuidV7Functions'>): CheckOutcome {
  const fn = ex.uuidV7Functions[0] ?? 'uuid_generate_v7';
  const passed: string[] = [];
  const findings: Finding[] = [];
  for (const f of results.defaults) {
    if (isUuidV7(f)) passed.push(`${f.expr} returns version-7 uuids`);
    else
      findings.push({
        object: f.expr,
        message: `${f.expr} returned ${f.u} (version ${f.version}, variant ${f.variant}, ${f.skew_seconds} s from the server clock), not a UUIDv7`,
        fix: `CREATE EXTENSION IF NOT EXISTS pg_uuidv7; -- or install the portable ${fn}() from migrations/0001`,
      });
  }
  for (const { row: r, got } of results.inserts) {
    if (!got.ok) {
      findings.push({
        object: r.tbl,
        message: `probe insert into ${r.tbl} failed: ${got.message}`,
        fix: `fix the probe row for ${r.key} in checks/expectations.ts, or the table's constraints`,
        severity: 'warning',
      });
    } else if (isUuidV7(got.value)) {
      passed.push(`${r.tbl}: a probe insert got a version-7 id`);
    } else {
      findings.push({
        object: `${r.tbl}.${r.pk_column}`,
        message: `a probe insert into ${r.tbl} got id ${got.value.u}, which is not a UUIDv7 (a trigger or rule may replace it)`,
        fix: `ALTER TABLE ${r.tbl} ALTER COLUMN ${r.pk_column} SET DEFAULT ${fn}(); -- and look for a trigger or rule that replaces the id`,
      });
    }
  }
  return { passed, findings };
}

export async function readKeys(ctx: CheckContext): Promise<KeyFacts> {
  const ex = ctx.expectations;
  const params = [ex.schemas ?? null, ex.ignoreTables, v7DefaultPattern(ex.uuidV7Functions), ex.requireUuidKeys, ctx.verbose, Object.keys(ex.probeRows)];
  const [facts] = await ctx.sql.unsafe<KeyFacts[]>(QUERY, params as never[]);
  return facts!;
}

export const primaryKeys: Check = {
  id: 'primary-keys',
  title: 'Primary keys are UUIDv7',
  rationale: 'Every row needs a stable identity; time-ordered UUIDv7 keys index well and never collide across systems.',
  severity: 'error',
  async run(ctx) {
    const ex = ctx.expectations;
    const catalog = judgeKeys(await readKeys(ctx), ex, ctx.verbose);
    const { plan } = catalog;
    if (plan.defaults.length === 0 && plan.inserts.length === 0) return catalog;
    // Behaviour, not just text: call each default once, and insert the configured probe rows.
    return mergeOutcomes(catalog, judgeKeyProbes(await ctx.probe((tx) => probeKeys(tx, plan)), ex));
  },
};
