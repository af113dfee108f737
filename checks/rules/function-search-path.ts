import type { Check, CheckContext, CheckOutcome, Finding } from '../types.ts';
import { notExtensionMember, schemaInScope } from '../lib/catalog.ts';
import { counted, passingLines } from '../lib/passing.ts';

/** A function or procedure whose name resolution can be steered, or (when listing) one that cannot. */
export interface FunctionRow {
  /** `public.set_updated_at()`, quoted where needed, with its argument types: what ALTER FUNCTION takes. */
  signature: string;
  kind: 'function' | 'procedure';
  security_definer: boolean;
  /** The pinned value, e.g. `pg_catalog, public`; null when not pinned. */
  search_path: string | null;
  /** A SQL-standard body (BEGIN ATOMIC / RETURN): its names were bound when it was created. */
  standard_body: boolean;
  /** The pinned path ends with pg_temp, so a caller's temporary tables cannot come first. */
  pg_temp_last: boolean;
  /** Nothing on the caller's side can steer it (decided in SQL). */
  ok: boolean;
}

export interface FunctionFacts {
  /** Safely pinned. */
  pinned: number;
  /** Unpinned, but with a SQL-standard body. */
  standard: number;
  /** Unpinned functions; every function when listing. */
  rows: FunctionRow[];
  /** The schemas this session resolves names through: what an unpinned function sees today. */
  session_path: string[];
}

/**
 * Functions and procedures in the managed schemas, extension members excluded (they are the
 * extension's to pin). A SECURITY DEFINER one must also end its path with pg_temp: unless
 * listed, pg_temp is searched first for tables. $2: list the safe ones too. `prosqlbody` is
 * read through to_jsonb so the query also runs on servers older than 14, which lack it.
 */
export const QUERY = `
WITH p AS (
  SELECT p.oid, n.nspname, p.proname, p.prokind, p.prosecdef,
         (SELECT substr(c, length('search_path=') + 1) FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%' LIMIT 1) AS search_path,
         (to_jsonb(p) ->> 'prosqlbody') IS NOT NULL AS standard_body
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
  WHERE p.prokind IN ('f', 'p') AND l.lanname <> 'internal'
    AND ${schemaInScope('$1')} AND ${notExtensionMember('p.oid', 'pg_proc')}
),
f AS (
  SELECT p.*, coalesce(p.search_path ~ '(^|,)\\s*"?pg_temp"?\\s*$', false) AS pg_temp_last FROM p
),
judged AS (
  SELECT f.*, f.standard_body OR (f.search_path IS NOT NULL AND (NOT f.prosecdef OR f.pg_temp_last)) AS ok FROM f
)
SELECT count(*) FILTER (WHERE f.ok AND f.search_path IS NOT NULL)::int AS pinned,
       count(*) FILTER (WHERE f.ok AND f.search_path IS NULL)::int AS standard,
       coalesce(jsonb_agg(jsonb_build_object(
         'signature', format('%I.%I(%s)', f.nspname, f.proname, pg_get_function_identity_arguments(f.oid)),
         'kind', CASE f.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
         'security_definer', f.prosecdef,
         'search_path', f.search_path,
         'standard_body', f.standard_body,
         'pg_temp_last', f.pg_temp_last,
         'ok', f.ok)
         ORDER BY f.nspname, f.proname, pg_get_function_identity_arguments(f.oid))
         FILTER (WHERE NOT f.ok OR $2), '[]'::jsonb) AS rows,
       (SELECT coalesce(array_agg(quote_ident(s)), '{}') FROM unnest(current_schemas(false)) s) AS session_path
FROM judged f`;

/**
 * The value to pin: pg_catalog first (so nothing shadows the built-ins), then the schemas the
 * function resolves through today, so pinning changes what it can be steered to, not what it
 * finds. SECURITY DEFINER functions put pg_temp last, as PostgreSQL's manual advises: otherwise
 * it is searched first for tables, and any caller can create temporary ones.
 */
export function pinnedPath(sessionPath: readonly string[], securityDefiner: boolean): string {
  const schemas = sessionPath.filter((s) => s !== 'pg_catalog' && s !== 'pg_temp');
  return ['pg_catalog', ...schemas, ...(securityDefiner ? ['pg_temp'] : [])].join(', ');
}

/** Pure: a finding per unpinned function (an error for SECURITY DEFINER), the rest counted. */
export function judgeFunctions(facts: FunctionFacts, verbose: boolean): CheckOutcome {
  const listed: string[] = [];
  const findings: Finding[] = [];
  for (const r of facts.rows) {
    const what = `${r.security_definer ? 'SECURITY DEFINER ' : ''}${r.kind} ${r.signature}`;
    if (r.ok) {
      listed.push(r.search_path !== null ? `${r.signature}: search_path pinned to ${r.search_path}` : `${r.signature}: SQL-standard body, its names were bound when it was created`);
    } else if (r.search_path !== null) {
      // Only a SECURITY DEFINER function can be pinned and still fail: pg_temp is not last.
      findings.push({
        object: r.signature,
        message: `${what} pins search_path to ${r.search_path}, which does not end with pg_temp, so a caller's temporary table is found before the table it means`,
        fix: `ALTER ${r.kind.toUpperCase()} ${r.signature} SET search_path = ${r.search_path}, pg_temp;`,
        fixable: true,
        severity: 'error',
      });
    } else {
      findings.push({
        object: r.signature,
        message: r.security_definer
          ? `${what} resolves names through its caller's search_path: whoever can create an object earlier on that path runs code with its owner's rights`
          : `${what} resolves names through its caller's search_path, so an object created earlier on that path can change what it does`,
        fix: `ALTER ${r.kind.toUpperCase()} ${r.signature} SET search_path = ${pinnedPath(facts.session_path, r.security_definer)};`,
        fixable: true,
        severity: r.security_definer ? 'error' : 'warning',
      });
    }
  }
  const groups = [
    { count: facts.pinned, line: (n: number) => `${counted(n, 'function')}: search_path pinned` },
    { count: facts.standard, line: (n: number) => `${counted(n, 'function')}: SQL-standard body, names bound at creation` },
  ];
  return { ...passingLines(verbose, listed, groups), findings };
}

export async function readFunctions(ctx: CheckContext): Promise<FunctionFacts> {
  const [facts] = await ctx.sql.unsafe<FunctionFacts[]>(QUERY, [ctx.expectations.schemas ?? null, ctx.verbose] as never[]);
  return facts!;
}

export const functionSearchPath: Check = {
  id: 'function-search-path',
  title: 'Functions pin their search_path',
  rationale: 'A function that resolves names through its caller\'s search_path can be steered by whoever creates an object earlier on it (CVE-2018-1058); a SECURITY DEFINER one then runs that object with its owner\'s rights.',
  // Ordinary functions are warnings; the error is for SECURITY DEFINER ones.
  severity: 'error',
  async run(ctx) {
    return judgeFunctions(await readFunctions(ctx), ctx.verbose);
  },
};
