import type { Check, CheckContext, CheckOutcome, Finding, ProbeSql } from '../types.ts';
import { isTable, relationInScope } from '../lib/catalog.ts';
import { derivedIdent, derivedName } from '../lib/identifiers.ts';
import { counted, mergeOutcomes, passingLines } from '../lib/passing.ts';
import { attempt, insertProbeRow, probeRowFix, probeRowOf, skippedProbeLines, type Attempt } from '../lib/probe.ts';
import { escapeRegExp } from '../lib/regexp.ts';
import type { Expectations } from '../expectations.ts';

export interface Trigger {
  name: string;
  row: boolean;
  before: boolean;
  update: boolean;
  /** BEFORE UPDATE OF col, …: fires only when those columns are assigned. */
  columns: boolean;
  enabled: boolean;
  function: string;
  /** How the trigger calls it, arguments included: `set_updated_at()`, `moddatetime('updated_at')`. */
  call: string;
  /** Its function assigns NEW.<column> (PL/pgSQL), or it is moddatetime(<column>). */
  sets: boolean;
}

export interface TableRow {
  key: string;
  tbl: string;
  relname: string;
  column: string | null;
  /** An enabled BEFORE UPDATE FOR EACH ROW trigger sets the column (decided in SQL). */
  ok: boolean;
  triggers: Trigger[];
}

export interface TriggerFacts {
  /** Tables whose column a good trigger keeps. */
  kept: number;
  /** The call (function and arguments) most triggers that set the column make, if any does. */
  common_call: string | null;
  /** The configured function, when the database has it as a trigger function that sets the column. */
  configured_function: string | null;
  /** The schema of the moddatetime extension (contrib spi), when it is installed. */
  moddatetime_schema: string | null;
  /** Failing tables; the passing ones too when listing, and those with probe rows. */
  rows: TableRow[];
}

/** A case-insensitive regex for `NEW.updated_at :=` (or `=`), quoting allowed. */
export function assignmentPattern(column: string): string {
  return `\\mnew\\s*\\.\\s*"?${escapeRegExp(column)}"?\\s*:?=`;
}

/**
 * One row per table that has the column or carries a trigger that sets it. Each trigger
 * function's source is matched once (MATERIALIZED), not once per trigger that calls it. $3 the column, $4 its assignment
 * pattern, $5 list passing tables, $6 tables with probe rows, $7 the configured trigger function.
 * Besides, what a fix can use that the database already has: the call most of its triggers
 * make, the configured function, moddatetime.
 */
export const QUERY = `
WITH trig AS (
  SELECT t.tgrelid, quote_ident(t.tgname) AS name,
         (t.tgtype & 1) <> 0 AS row, (t.tgtype & 2) <> 0 AS before, (t.tgtype & 16) <> 0 AS update,
         t.tgattr::text <> '' AS columns, t.tgenabled <> 'D' AS enabled,
         t.tgfoid, t.tgnargs, t.tgargs
  FROM pg_trigger t WHERE NOT t.tgisinternal
),
fn AS MATERIALIZED (
  SELECT p.oid, p.oid::regproc::text AS name, p.proname, p.prosrc ~* $4 AS assigns
  FROM pg_proc p WHERE p.oid IN (SELECT tgfoid FROM trig)
),
sets AS (
  SELECT trig.*, fn.name AS function,
         fn.name || '(' || coalesce((SELECT string_agg(quote_literal(x.a), ', ' ORDER BY x.o)
                                       FROM unnest((string_to_array(encode(trig.tgargs, 'escape'), '\\000'))[1:trig.tgnargs]) WITH ORDINALITY x(a, o)), '') || ')' AS call,
         fn.assigns OR (fn.proname = 'moddatetime' AND trig.tgnargs > 0
                        AND split_part(encode(trig.tgargs, 'escape'), '\\000', 1) = $3) AS sets
  FROM trig JOIN fn ON fn.oid = trig.tgfoid
),
per_table AS (
  SELECT tgrelid, bool_or(sets) AS has_setter, bool_or(sets AND update AND row AND before AND NOT columns AND enabled) AS kept
  FROM sets GROUP BY tgrelid
),
tables AS (
  SELECT c.oid, n.nspname, c.relname, quote_ident(a.attname) AS column,
         a.attname IS NOT NULL AND coalesce(pt.kept, false) AS ok
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  -- OFFSET 0 keeps this a lookup by (attrelid, attname) per table, not a scan of every column in the database.
  LEFT JOIN LATERAL (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = $3 AND a.attnum > 0 AND NOT a.attisdropped OFFSET 0) a ON true
  LEFT JOIN per_table pt ON pt.tgrelid = c.oid
  WHERE ${isTable()} AND ${relationInScope('$1', '$2')} AND (a.attname IS NOT NULL OR coalesce(pt.has_setter, false))
),
listed AS (
  SELECT * FROM tables t WHERE NOT t.ok OR $5 OR t.nspname || '.' || t.relname = ANY ($6::text[])
),
listed_triggers AS (
  SELECT s.tgrelid, jsonb_agg(jsonb_build_object(
           'name', s.name, 'row', s.row, 'before', s.before, 'update', s.update,
           'columns', s.columns, 'enabled', s.enabled, 'function', s.function, 'call', s.call, 'sets', s.sets) ORDER BY s.name) AS triggers
  FROM sets s WHERE s.tgrelid IN (SELECT oid FROM listed) GROUP BY s.tgrelid
)
SELECT (SELECT count(*)::int FROM tables WHERE ok) AS kept,
       (SELECT s.call FROM sets s JOIN tables t ON t.oid = s.tgrelid WHERE s.sets
         GROUP BY s.call ORDER BY count(*) DESC, s.call LIMIT 1) AS common_call,
       (SELECT p.oid::regproc::text FROM pg_proc p
         WHERE p.oid = to_regprocedure($7 || '()') AND p.prorettype = 'trigger'::regtype AND p.prosrc ~* $4) AS configured_function,
       (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'moddatetime') AS moddatetime_schema,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                  'key', t.nspname || '.' || t.relname,
                  'tbl', format('%I.%I', t.nspname, t.relname),
                  'relname', t.relname,
                  'column', t.column,
                  'ok', t.ok,
                  'triggers', coalesce(lt.triggers, '[]'::jsonb))
                  ORDER BY format('%I.%I', t.nspname, t.relname))
                 FROM listed t LEFT JOIN listed_triggers lt ON lt.tgrelid = t.oid), '[]'::jsonb) AS rows`;

/** A trigger that keeps the column: enabled, row-level, BEFORE UPDATE of any column. */
const keeps = (t: Trigger) => t.sets && t.update && t.row && t.before && !t.columns;

/** What the rolled-back probe must try: an UPDATE on each kept table with a probe row. */
export type TriggerProbePlan = Array<{ row: TableRow; values: Record<string, string> }>;

/** The trigger function a fix calls, and the statement that creates it when the database lacks one. */
export interface SetterFunction {
  call: string;
  /** CREATE OR REPLACE FUNCTION … (only when the database has nothing to call). */
  create?: string;
}

/**
 * Pure: what the fix calls, using what the database has first: the call most of its triggers
 * for the column make; the configured function, if it exists and sets the column; moddatetime
 * (contrib spi) if installed; failing all, the configured function, created by the fix itself.
 */
export function setterFunction(facts: Pick<TriggerFacts, 'common_call' | 'configured_function' | 'moddatetime_schema'>, ex: Pick<Expectations, 'updatedAt'>): SetterFunction {
  const col = ex.updatedAt.column;
  if (facts.common_call) return { call: facts.common_call };
  if (facts.configured_function) return { call: `${facts.configured_function}()` };
  if (facts.moddatetime_schema) return { call: `${facts.moddatetime_schema === 'public' ? '' : `${derivedIdent(facts.moddatetime_schema)}.`}moddatetime(${derivedIdent(col)})` };
  const fn = ex.updatedAt.function;
  // OR REPLACE: the same text for every table's fix, so they can run one after another.
  return {
    call: `${fn}()`,
    // Pinned as migration 0001 pins ours, so function-search-path has nothing to say about it.
    create: `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$ BEGIN NEW.${derivedIdent(col)} := now(); RETURN NEW; END $$;`,
  };
}

/** Pure: findings for the failing tables, passed lines, and what the probe must try. */
export function judgeTriggers(facts: TriggerFacts, ex: Pick<Expectations, 'updatedAt' | 'probeRows'>, verbose: boolean): CheckOutcome & { plan: TriggerProbePlan; fn: SetterFunction } {
  const col = ex.updatedAt.column;
  const fn = setterFunction(facts, ex);
  const create = (r: TableRow) =>
    `${fn.create ? `${fn.create}\n` : ''}CREATE TRIGGER ${derivedIdent(derivedName(r.relname, ['set'], col))} BEFORE UPDATE ON ${r.tbl} FOR EACH ROW EXECUTE FUNCTION ${fn.call};`;
  // "Nothing to check" is a verified fact in its own right, listed either way.
  if (facts.kept === 0 && facts.rows.length === 0) return { passed: [`no table has a ${col} column or a trigger that sets one`], passedCount: 1, findings: [], plan: [], fn };
  const listed: string[] = [];
  const findings: Finding[] = [];
  for (const r of facts.rows) {
    if (!r.column) {
      for (const t of r.triggers.filter((t) => t.sets)) {
        findings.push({
          object: `${r.tbl}.${t.name}`,
          message: `trigger ${t.name} on ${r.tbl} sets ${col}, but ${r.tbl} has no ${col} column, so ${t.update ? 'every UPDATE' : 'every statement it fires on'} fails`,
          fix: `DROP TRIGGER ${t.name} ON ${r.tbl};`,
          fixable: true,
        });
      }
      continue;
    }
    const good = r.triggers.filter(keeps);
    const setters = r.triggers.filter((t) => t.sets && t.update);
    if (r.ok) {
      listed.push(`${r.tbl}: ${good.find((t) => t.enabled)!.name} sets ${r.column} before every update`);
    } else if (good.length > 0) {
      findings.push({
        object: `${r.tbl}.${good[0]!.name}`,
        message: `trigger ${good[0]!.name} on ${r.tbl} would set ${r.column} but is disabled`,
        fix: `ALTER TABLE ${r.tbl} ENABLE TRIGGER ${good[0]!.name};`,
        fixable: true,
      });
    } else if (setters.length > 0) {
      const t = setters[0]!;
      const why = !t.before ? 'runs AFTER the row is written, so its assignment is lost' : !t.row ? 'is FOR EACH STATEMENT and has no row to change' : 'fires only when particular columns are assigned';
      findings.push({ object: `${r.tbl}.${t.name}`, message: `trigger ${t.name} on ${r.tbl} ${why}`, fix: `DROP TRIGGER ${t.name} ON ${r.tbl}; ${create(r)}`, fixable: true });
    } else {
      findings.push({
        object: r.tbl,
        message: `${r.tbl} has a ${r.column} column but no BEFORE UPDATE FOR EACH ROW trigger that sets it`,
        fix: create(r),
        fixable: true,
      });
    }
  }
  const groups = [{ count: facts.kept, line: (n: number) => `${counted(n, 'table')}: a trigger sets ${col} before every update` }];
  const plan = facts.rows.filter((r) => r.ok && ex.probeRows[r.key]).map((row) => ({ row, values: ex.probeRows[row.key]! }));
  return { ...passingLines(verbose, listed, groups), findings, plan, fn };
}

/** A value no trigger would write: the UPDATE must move it. */
const STALE = '2000-01-01 00:00:00+00';

export type TriggerProbeResults = Array<{ row: TableRow; got: Attempt<{ before: string; moved: boolean; after: string }> }>;

/** Behaviour: insert a row with a stale value, UPDATE it without setting the column; each in its own savepoint. */
export async function probeTriggers(tx: ProbeSql, plan: TriggerProbePlan, column: string): Promise<TriggerProbeResults> {
  const results: TriggerProbeResults = [];
  for (const { row: r, values } of plan) {
    const ins = insertProbeRow(r.tbl, { ...values, [column]: STALE }, `ctid::text AS ctid, ${r.column}::text AS before`);
    const got = await attempt(tx, async (sp) => {
      const [inserted] = await sp.unsafe<{ ctid: string; before: string }[]>(ins.text, ins.params);
      const [updated] = await sp.unsafe<{ moved: boolean; after: string }[]>(
        `UPDATE ${r.tbl} SET ${r.column} = ${r.column} WHERE ctid = $1::tid RETURNING ${r.column} > $2 AS moved, ${r.column}::text AS after`,
        [inserted!.ctid, STALE],
      );
      return { before: inserted!.before, ...updated! };
    });
    results.push({ row: r, got });
  }
  return results;
}

/** Pure: what the probe proved. A trigger that does not move the column is pointed at the function that does. */
export function judgeTriggerProbes(results: TriggerProbeResults, setter: SetterFunction, ex: Partial<Pick<Expectations, 'configFile'>> = {}): CheckOutcome {
  const passed: string[] = [];
  const findings: Finding[] = [];
  const fn = setter.call;
  const moved = new Set(results.filter((p) => p.got.ok && p.got.value.moved).flatMap((p) => p.row.triggers.filter((t) => keeps(t) && t.enabled).map((t) => t.call)));
  for (const { row: r, got } of results) {
    if (!got.ok) {
      findings.push({ object: r.tbl, message: `probe on ${r.tbl} could not insert and update a row: ${got.message}`, fix: probeRowFix(ex, r.key), severity: 'warning' });
    } else if (got.value.moved) {
      passed.push(`${r.tbl}: a probe UPDATE moved ${r.column} from ${got.value.before} to ${got.value.after}`);
    } else {
      const t = r.triggers.find((x) => keeps(x) && x.enabled)!;
      // Point this table's trigger at a function the probe saw work (the common one first);
      // failing that, at the common one, unproven; failing that, the function itself needs fixing.
      const proven = moved.has(fn) ? fn : [...moved][0];
      const replacement = proven ?? (t.call !== fn ? fn : undefined);
      const needs = replacement === fn && setter.create ? `${setter.create}\n` : '';
      findings.push({
        object: r.tbl,
        message: `a probe UPDATE on ${r.tbl} left ${r.column} at ${got.value.after}: trigger ${t.name} (${t.function}) does not move it`,
        ...(replacement && replacement !== t.call
          ? { fix: `${needs}DROP TRIGGER ${t.name} ON ${r.tbl}; CREATE TRIGGER ${t.name} BEFORE UPDATE ON ${r.tbl} FOR EACH ROW EXECUTE FUNCTION ${replacement};`, fixable: replacement === proven }
          : { fix: `CREATE OR REPLACE FUNCTION ${t.function}() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$ BEGIN NEW.${r.column} := now(); RETURN NEW; END $$;` }),
      });
    }
  }
  return { passed, findings };
}

export async function readTriggers(ctx: CheckContext): Promise<TriggerFacts> {
  const ex = ctx.expectations;
  const col = ex.updatedAt.column;
  const params = [ex.schemas ?? null, ex.ignoreTables, col, assignmentPattern(col), ctx.verbose, Object.keys(ex.probeRows), ex.updatedAt.function];
  const [facts] = await ctx.sql.unsafe<TriggerFacts[]>(QUERY, params as never[]);
  return facts!;
}

export const updatedAtTriggers: Check = {
  id: 'updated-at-triggers',
  title: 'updated_at is kept by triggers',
  rationale: 'A BEFORE UPDATE trigger is the only way no code path can forget updated_at; on a table without the column it breaks every UPDATE.',
  severity: 'error',
  policy: 'updated-at',
  async run(ctx) {
    const ex = ctx.expectations;
    const facts = await readTriggers(ctx);
    const catalog = judgeTriggers(facts, ex, ctx.verbose);
    // A kept table without a probe row is judged by its trigger's definition alone; the report says so.
    const skipped = skippedProbeLines(ctx.verbose, ctx.verbose ? facts.rows.filter((r) => r.ok && !probeRowOf(ex, r.key)).map((r) => r.key) : facts.kept - catalog.plan.length, 'update');
    if (catalog.plan.length === 0) return mergeOutcomes(catalog, skipped);
    const probed = await ctx.probe((tx) => probeTriggers(tx, catalog.plan, ex.updatedAt.column));
    return mergeOutcomes(catalog, skipped, judgeTriggerProbes(probed, catalog.fn, ex));
  },
};
