import type { Check, CheckContext, CheckOutcome, Finding, ProbeSql } from '../types.ts';
import { isTable, relationInScope } from '../lib/catalog.ts';
import { derivedIdent, derivedName } from '../lib/identifiers.ts';
import { counted, mergeOutcomes, passingLines } from '../lib/passing.ts';
import { attempt, insertProbeRow, isUuidV7, probeRowFix, probeRowOf, skippedProbeLines, uuidFacts, type Attempt } from '../lib/probe.ts';
import { escapeRegExp } from '../lib/regexp.ts';
import type { Expectations } from '../expectations.ts';
import { IMPLEMENTATION_LABEL, IMPLEMENTATION_QUERY, implementationOf } from '../../core/extensions/uuidv7.ts';

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

/** The database's pg_uuidv7, as core/extensions/uuidv7.ts's IMPLEMENTATION_QUERY reads it. */
export interface InstalledUuidV7 {
  schema: string;
  version: string;
  language: string;
  via_pg_tle: boolean;
}

export interface KeyFacts {
  /** Passing tables counted by kind; `detail` is the default (v7) or the type (other). */
  groups: Array<{ kind: PassingKind; detail: string | null; count: number }>;
  /** Failing tables; the passing ones too when listing, and the v7-keyed tables that have probe rows. */
  rows: KeyRow[];
  /** pg_uuidv7 in this database, if it is there (read in the same round trip). */
  uuidv7: InstalledUuidV7 | null;
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
 * probe rows, $7 the uuidv7-keys policy is enabled (without it any primary key passes). Defaults are deparsed with relation 0: a default cannot refer to a column (a
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
              WHEN t.atttypid = 'uuid'::regtype AND dv.v7 THEN 'v7'
              WHEN NOT $7 THEN 'other'
              WHEN t.atttypid = 'uuid'::regtype THEN NULL
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
              'candidate_passes', CASE WHEN k.relname IS NOT NULL THEN k.indnkeyatts > 1 OR NOT $4 OR NOT $7 OR EXISTS (
                  SELECT 1 FROM pg_attribute ka JOIN pg_attrdef kd ON kd.adrelid = ka.attrelid AND kd.adnum = ka.attnum
                   WHERE ka.attrelid = j.oid AND ka.attnum = k.indkey[0] AND ka.atttypid = 'uuid'::regtype
                     AND btrim(CASE WHEN ka.attgenerated = '' THEN pg_get_expr(kd.adbin, 0) ELSE pg_get_expr(kd.adbin, kd.adrelid) END) ~ $3) END)
              ORDER BY j.nspname || '.' || j.relname)
              FROM judged j LEFT JOIN candidates k ON k.oid = j.oid AND k.rank = 1
             WHERE j.passing IS NULL OR $5 OR (j.passing = 'v7' AND j.nspname || '.' || j.relname = ANY ($6::text[]))), '[]'::jsonb) AS rows,
  (SELECT to_jsonb(x) FROM (${IMPLEMENTATION_QUERY}) x LIMIT 1) AS uuidv7`;

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

/** How this run judges keys, besides the expectations. */
export interface KeyJudging {
  /** The uuidv7-keys policy is enabled: single-column surrogate keys must be uuid DEFAULT a v7 function. */
  uuidv7Keys: boolean;
  verbose: boolean;
  /** server_version_num: PostgreSQL 18 has a native uuidv7(). */
  serverVersionNum: number;
}

/** The uuid generator a fix names, and what must run first when the database lacks it. */
export interface KeyFunction {
  call: string;
  /** A statement the fix needs before `call` works (absent: the database has it). */
  needs?: string;
}

/**
 * Pure: the generator the database already uses or has, in that order: the v7 default most of
 * its keys call; pg_uuidv7's function where the extension is installed (schema-qualified unless
 * public); PostgreSQL 18's native uuidv7() if configured; otherwise, under the policy, the
 * configured function after the CREATE EXTENSION that provides it, and without the policy
 * gen_random_uuid(), which every PostgreSQL since 13 has.
 */
export function keyFunction(facts: Pick<KeyFacts, 'groups' | 'uuidv7'>, ex: Pick<Expectations, 'uuidV7Functions'>, j: Pick<KeyJudging, 'uuidv7Keys' | 'serverVersionNum'>): KeyFunction {
  const inUse = facts.groups.filter((g) => g.kind === 'v7' && g.detail).sort((a, b) => b.count - a.count)[0];
  if (inUse) return { call: inUse.detail! };
  if (facts.uuidv7) return { call: `${facts.uuidv7.schema === 'public' ? '' : `${derivedIdent(facts.uuidv7.schema)}.`}uuid_generate_v7()` };
  if (j.serverVersionNum >= 180000 && ex.uuidV7Functions.includes('uuidv7')) return { call: 'uuidv7()' };
  if (!j.uuidv7Keys) return { call: 'gen_random_uuid()' };
  return { call: `${ex.uuidV7Functions[0] ?? 'uuid_generate_v7'}()`, needs: 'CREATE EXTENSION IF NOT EXISTS pg_uuidv7;' };
}

/**
 * Advice for giving a table a new uuid key without a rewrite or a long lock. Only the first
 * step is SQL (a nullable column, then a default for new rows: neither rewrites the table);
 * the rest must be separate migrations, so it is spelt out as comments. Passes our squawk rules.
 */
function newKeyAdvice(tbl: string, relname: string, column: string, fn: KeyFunction, then: string): string {
  const index = derivedIdent(derivedName(relname, [column], 'key'));
  const check = derivedIdent(derivedName(relname, [column], 'not_null'));
  return [
    ...(fn.needs ? [fn.needs] : []),
    `ALTER TABLE ${tbl} ADD COLUMN ${derivedIdent(column)} uuid;`,
    `ALTER TABLE ${tbl} ALTER COLUMN ${derivedIdent(column)} SET DEFAULT ${fn.call};`,
    `-- then, each step a migration of its own: backfill in batches (UPDATE ${tbl} SET ${derivedIdent(column)} = ${fn.call} WHERE ${derivedIdent(column)} IS NULL …);`,
    `-- ALTER TABLE ${tbl} ADD CONSTRAINT ${check} CHECK (${derivedIdent(column)} IS NOT NULL) NOT VALID; then VALIDATE CONSTRAINT ${check} and SET NOT NULL;`,
    `-- CREATE UNIQUE INDEX CONCURRENTLY ${index} ON ${tbl} (${derivedIdent(column)}) in a -- no-transaction migration;`,
    `-- ${then}`,
  ].join('\n');
}

/** The passing line naming the database's pg_uuidv7 (issue: say which implementation answers). */
export function implementationLine(u: InstalledUuidV7): string {
  const impl = implementationOf({ language: u.language, viaPgTle: u.via_pg_tle });
  return `pg_uuidv7 ${u.version} in schema ${u.schema}: ${IMPLEMENTATION_LABEL[impl]}`;
}

/** Pure: findings for the failing tables, passed lines, and what the probe must try. */
export function judgeKeys(facts: KeyFacts, ex: Pick<Expectations, 'uuidV7Functions' | 'probeRows'>, j: KeyJudging): CheckOutcome & { plan: KeyProbePlan } {
  const fn = keyFunction(facts, ex, j);
  const policy = { policy: 'uuidv7-keys' as const };
  const findings: Finding[] = [];
  const listed: string[] = [];
  for (const r of facts.rows) {
    if (r.passing) {
      listed.push(passingLine(r));
    } else if (!r.has_pk) {
      // A missing key is a defect on any database; only what the new key should be is policy.
      findings.push(
        r.unique_candidate
          ? {
              object: r.tbl,
              message: `table ${r.tbl} has no primary key`,
              fix: `ALTER TABLE ${r.tbl} ADD CONSTRAINT ${derivedIdent(derivedName(r.relname, [], 'pkey'))} PRIMARY KEY USING INDEX ${r.unique_candidate};`,
              // Under uuidv7-keys a natural key would only trade this finding for "not uuid": a person chooses then.
              fixable: !j.uuidv7Keys || r.candidate_passes === true,
            }
          : {
              object: r.tbl,
              message: `table ${r.tbl} has no primary key`,
              fix: newKeyAdvice(r.tbl, r.relname, 'id', fn, `ALTER TABLE ${r.tbl} ADD CONSTRAINT ${derivedIdent(derivedName(r.relname, [], 'pkey'))} PRIMARY KEY USING INDEX ${derivedIdent(derivedName(r.relname, ['id'], 'key'))};`),
            },
      );
    } else if (r.pk_type === 'uuid') {
      findings.push({
        object: `${r.tbl}.${r.pk_column}`,
        message: `primary key ${r.tbl}.${r.pk_column} ${r.pk_default ? `defaults to ${r.pk_default}` : 'has no default'}, not ${fn.call}`,
        fix: `${fn.needs ? `${fn.needs}\n` : ''}ALTER TABLE ${r.tbl} ALTER COLUMN ${r.pk_column} SET DEFAULT ${fn.call};`,
        // Creating an extension is a decision about the server, not a mechanical repair.
        fixable: !fn.needs,
        ...policy,
      });
    } else {
      findings.push({
        object: `${r.tbl}.${r.pk_column}`,
        message: `primary key ${r.tbl}.${r.pk_column} is ${r.pk_type}${r.identity ? ' (identity)' : ''}, not uuid DEFAULT ${fn.call}`,
        fix: newKeyAdvice(r.tbl, r.relname, `${r.relname}_uuid`, fn, 'then repoint the foreign keys to it and make it the primary key (ADD CONSTRAINT … PRIMARY KEY USING INDEX).'),
        ...policy,
      });
    }
  }
  const v7Keyed = new Map(facts.rows.filter((r) => r.passing === 'v7').map((r) => [r.key, r]));
  // The probe proves the v7 defaults, which only the policy asks for.
  const plan: KeyProbePlan = j.uuidv7Keys
    ? {
        defaults: facts.groups.filter((g) => g.kind === 'v7' && g.detail).map((g) => g.detail!),
        inserts: Object.entries(ex.probeRows)
          .filter(([t]) => v7Keyed.has(t))
          .map(([t, values]) => ({ row: v7Keyed.get(t)!, values })),
      }
    : { defaults: [], inserts: [] };
  const groups = facts.groups.map((g) => ({ count: g.count, line: groupLine(g) }));
  const lines = passingLines(j.verbose, listed, groups);
  if (facts.uuidv7) {
    lines.passed.push(implementationLine(facts.uuidv7));
    lines.passedCount += 1;
  }
  return { ...lines, findings, plan };
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
export function judgeKeyProbes(results: KeyProbeResults, ex: Pick<Expectations, 'uuidV7Functions'> & Partial<Pick<Expectations, 'configFile'>>): CheckOutcome {
  const fn = ex.uuidV7Functions[0] ?? 'uuid_generate_v7';
  const passed: string[] = [];
  const findings: Finding[] = [];
  for (const f of results.defaults) {
    if (isUuidV7(f)) passed.push(`${f.expr} returns version-7 uuids`);
    else
      findings.push({
        object: f.expr,
        message: `${f.expr} returned ${f.u} (version ${f.version}, variant ${f.variant}, ${f.skew_seconds} s from the server clock), not a UUIDv7`,
        fix: `CREATE EXTENSION IF NOT EXISTS pg_uuidv7; -- then point the defaults at its uuid_generate_v7() (see docs/pg-uuidv7.md)`,
        policy: 'uuidv7-keys',
      });
  }
  for (const { row: r, got } of results.inserts) {
    if (!got.ok) {
      findings.push({
        object: r.tbl,
        message: `probe insert into ${r.tbl} failed: ${got.message}`,
        fix: probeRowFix(ex, r.key, ", or the table's constraints"),
        severity: 'warning',
        policy: 'uuidv7-keys',
      });
    } else if (isUuidV7(got.value)) {
      passed.push(`${r.tbl}: a probe insert got a version-7 id`);
    } else {
      findings.push({
        object: `${r.tbl}.${r.pk_column}`,
        message: `a probe insert into ${r.tbl} got id ${got.value.u}, which is not a UUIDv7 (a trigger or rule may replace it)`,
        fix: `ALTER TABLE ${r.tbl} ALTER COLUMN ${r.pk_column} SET DEFAULT ${fn}(); -- and look for a trigger or rule that replaces the id`,
        policy: 'uuidv7-keys',
      });
    }
  }
  return { passed, findings };
}

export async function readKeys(ctx: CheckContext): Promise<KeyFacts> {
  const ex = ctx.expectations;
  const params = [ex.schemas ?? null, ex.ignoreTables, v7DefaultPattern(ex.uuidV7Functions), ex.requireUuidKeys, ctx.verbose, Object.keys(ex.probeRows), ctx.policies.has('uuidv7-keys')];
  const [facts] = await ctx.sql.unsafe<KeyFacts[]>(QUERY, params as never[]);
  return facts!;
}

export const primaryKeys: Check = {
  id: 'primary-keys',
  title: 'Every table has a primary key (UUIDv7 under uuidv7-keys)',
  rationale: 'Every row needs a stable identity; under the uuidv7-keys policy, time-ordered UUIDv7 keys index well and never collide across systems.',
  severity: 'error',
  async run(ctx) {
    const ex = ctx.expectations;
    const facts = await readKeys(ctx);
    const catalog = judgeKeys(facts, ex, { uuidv7Keys: ctx.policies.has('uuidv7-keys'), verbose: ctx.verbose, serverVersionNum: ctx.serverVersionNum });
    const { plan } = catalog;
    // A v7-keyed table without a probe row is judged by its catalog default alone; the report says so.
    const v7 = facts.groups.filter((g) => g.kind === 'v7').reduce((n, g) => n + g.count, 0);
    const unprobed = ctx.verbose ? facts.rows.filter((r) => r.passing === 'v7' && !probeRowOf(ex, r.key)).map((r) => r.key) : v7 - plan.inserts.length;
    const skipped = ctx.policies.has('uuidv7-keys') ? skippedProbeLines(ctx.verbose, unprobed, 'insert') : { passed: [], findings: [] };
    if (plan.defaults.length === 0 && plan.inserts.length === 0) return mergeOutcomes(catalog, skipped);
    // Behaviour, not just text: call each default once, and insert the configured probe rows.
    return mergeOutcomes(catalog, skipped, judgeKeyProbes(await ctx.probe((tx) => probeKeys(tx, plan)), ex));
  },
};
