import { ident, literal } from '../../core/db/connect.ts';
import { CONFIG_FILE_NAME } from '../../core/config/ops-config.ts';
import type { Check, CheckContext, CheckOutcome, Finding, ProbeSql } from '../types.ts';
import { splitTable, type Expectations, type SearchProbe, type SearchQuery } from '../expectations.ts';
import { derivedIdent, derivedName, qualified } from '../lib/identifiers.ts';
import { mergeOutcomes } from '../lib/passing.ts';
import { attempt, insertProbeRow, type Attempt } from '../lib/probe.ts';
import { escapeRegExp } from '../lib/regexp.ts';

export interface IndexFacts {
  name: string;
  relname: string;
  am: string;
  keys: string[];
  classes: string[];
  usable: boolean;
}

/** A configured searchable column (or a probe's table, kind `probe`), as the catalog has it. */
export interface SearchRow {
  kind: 'full-text' | 'trigram' | 'probe';
  key: string;
  raw_table: string;
  raw_column: string;
  tbl: string;
  table_exists: boolean;
  column: string | null;
  type: string | null;
  indexes: IndexFacts[] | null;
}

const QUERY = `
SELECT w.kind, w.schema || '.' || w.tbl AS key, w.tbl AS raw_table, w.col AS raw_column,
       format('%I.%I', w.schema, w.tbl) AS tbl,
       c.oid IS NOT NULL AS table_exists,
       quote_ident(a.attname) AS column,
       format_type(a.atttypid, a.atttypmod) AS type,
       (SELECT jsonb_agg(jsonb_build_object(
                 'name', format('%I.%I', w.schema, ic.relname),
                 'relname', ic.relname,
                 'am', am.amname,
                 'keys', array(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k),
                 'classes', array(SELECT opc.opcname FROM unnest(string_to_array(i.indclass::text, ' ')::oid[]) WITH ORDINALITY x(o, ord)
                                  JOIN pg_opclass opc ON opc.oid = x.o ORDER BY x.ord),
                 'usable', i.indisvalid AND i.indpred IS NULL)
               ORDER BY ic.relname)
          FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
         WHERE i.indrelid = c.oid AND w.kind <> 'probe') AS indexes
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS w(kind, schema, tbl, col, ord)
LEFT JOIN pg_namespace n ON n.nspname = w.schema
LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.tbl AND c.relkind IN ('r', 'p', 'm')
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = w.col AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY w.ord`;

/**
 * The index (and the expression a query must use to hit it) that serves full-text search on
 * a column: GIN on the tsvector column itself, or GIN on to_tsvector(…column…).
 */
export function fullTextIndex(indexes: readonly IndexFacts[], column: string): { index: IndexFacts; expression: string } | undefined {
  const bare = column.replace(/^"|"$/g, '');
  for (const ix of indexes) {
    if (!ix.usable || ix.am !== 'gin') continue;
    for (const k of ix.keys) {
      if (k === column || k === bare) return { index: ix, expression: column };
      if (/^to_tsvector\(/.test(k) && new RegExp(`\\b${escapeRegExp(bare)}\\b`).test(k)) return { index: ix, expression: k };
    }
  }
  return undefined;
}

/** A pg_trgm index on the column itself, which ILIKE '%x%' and similarity operators can use. */
export function trigramIndex(indexes: readonly IndexFacts[], column: string): IndexFacts | undefined {
  const bare = column.replace(/^"|"$/g, '');
  return indexes.find(
    (ix) =>
      ix.usable &&
      ix.keys.some((k, n) => (k === column || k === bare) && ((ix.am === 'gin' && ix.classes[n] === 'gin_trgm_ops') || (ix.am === 'gist' && ix.classes[n] === 'gist_trgm_ops'))),
  );
}

/** Every index name an EXPLAIN (FORMAT JSON) plan scans. */
export function indexesInPlan(plan: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'Index Name' && typeof v === 'string') out.push(v);
        else walk(v);
      }
    }
  };
  walk(plan);
  return out;
}

const likePattern = (term: string) => `%${term.replace(/[\\%_]/g, '\\$&')}%`;

function configFor(ex: Pick<Expectations, 'search'>, key: string, column: string): string {
  return ex.search.fullText.find((f) => f.table === key && f.column === column)?.config ?? 'simple';
}

/** An EXPLAIN the probe runs: does the planner reach `index` for this WHERE clause? */
export interface PlanQuestion {
  subject: string;
  tbl: string;
  index: IndexFacts;
  /** `@@` or `ILIKE '%…%'`, for the report. */
  operator: string;
  expression: string;
  where: string;
  params: string[];
}

/** A search probe with its table as the catalog quotes it and, per query, the SQL that runs it. */
export interface ProbePlan {
  probe: SearchProbe;
  tbl: string;
  queries: Array<{ q: SearchQuery; text: string; params: string[] }>;
}

/** The SQL of one probe query: full-text through the indexed expression, ILIKE, or trigram similarity. */
export function probeQuery(q: SearchQuery, tbl: string, key: string, fullTextExpression: string | undefined, config: string): { text: string; params: string[] } {
  const hit = `${ident(key)}::text AS hit`;
  const col = ident(q.column);
  switch (q.kind) {
    case 'full-text':
      return { text: `SELECT ${hit} FROM ${tbl} WHERE ${fullTextExpression ?? col} @@ websearch_to_tsquery($1::regconfig, $2)`, params: [config, q.term] };
    case 'ilike':
      return { text: `SELECT ${hit} FROM ${tbl} WHERE ${col} ILIKE $1`, params: [likePattern(q.term)] };
    case 'similarity':
      return { text: `SELECT ${hit} FROM ${tbl} WHERE $1 <% ${col} ORDER BY word_similarity($1, ${col}) DESC LIMIT 100`, params: [q.term] };
  }
}

/** Every column a probe names: its key, its queries' columns, its sample rows' columns. */
export function probeColumns(p: SearchProbe): string[] {
  return [...new Set([p.key, ...p.queries.map((q) => q.column), ...p.rows.flatMap((r) => Object.keys(r))])];
}

/** Pure: the configured columns as the catalog describes them, and what the probe must ask. */
export function judgeSearchColumns(rows: readonly SearchRow[], ex: Pick<Expectations, 'search'>): CheckOutcome & { explains: PlanQuestion[]; probes: ProbePlan[] } {
  const passed: string[] = [];
  const findings: Finding[] = [];
  const explains: PlanQuestion[] = [];
  /** How a probe query on (table, column) reaches its index. */
  const ftExpr = new Map<string, string>();
  for (const r of rows) {
    if (r.kind === 'probe') continue;
    const subject = `${r.tbl}.${r.column ?? r.raw_column}`;
    // A configured column the database lacks is the configuration check's finding, not a schema defect.
    if (!r.table_exists || !r.column) continue;
    const column = r.column;
    const indexes = r.indexes ?? [];
    if (r.kind === 'full-text') {
      const cfg = configFor(ex, r.key, r.raw_column);
      const found = fullTextIndex(indexes, column);
      if (!found) {
        const name = derivedIdent(derivedName(r.raw_table, [r.raw_column], 'idx'));
        const expr = r.type === 'tsvector' ? column : `to_tsvector(${literal(cfg)}, ${column})`;
        findings.push({
          object: subject,
          message: `${subject} (${r.type}) has no usable GIN index for full-text search`,
          fix: `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${r.tbl} USING gin (${expr});`,
          fixable: true,
        });
        continue;
      }
      ftExpr.set(`${r.key}|${r.raw_column}`, found.expression);
      passed.push(`${subject}: GIN index ${found.index.name}`);
      explains.push({
        subject,
        tbl: r.tbl,
        index: found.index,
        operator: '@@',
        expression: `${found.expression} @@ tsquery`,
        where: `${found.expression} @@ websearch_to_tsquery($1::regconfig, $2)`,
        params: [cfg, 'pgsteward probe'],
      });
    } else {
      const found = trigramIndex(indexes, column);
      if (!found) {
        const name = derivedIdent(derivedName(r.raw_table, [r.raw_column, 'trgm'], 'idx'));
        findings.push({
          object: subject,
          message: `${subject} has no usable gin_trgm_ops or gist_trgm_ops index, so ILIKE '%…%' and similarity search scan the table`,
          fix: `CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${r.tbl} USING gin (${column} gin_trgm_ops);`,
          fixable: true,
        });
        continue;
      }
      passed.push(`${subject}: trigram index ${found.name}`);
      explains.push({
        subject,
        tbl: r.tbl,
        index: found,
        operator: "ILIKE '%…%'",
        expression: `${column} ILIKE '%…%'`,
        where: `${column} ILIKE $1`,
        params: [likePattern('pgsteward probe')],
      });
    }
  }
  // A probe whose table or columns are missing cannot say anything about search; the configuration check names them.
  const runnable = (p: SearchProbe) => probeColumns(p).every((c) => rows.some((r) => r.kind === 'probe' && r.key === p.table && r.raw_column === c && r.table_exists && r.column));
  const probes = ex.search.probes.filter(runnable).map((p) => {
    const { schema, table } = splitTable(p.table);
    const tbl = rows.find((r) => r.key === p.table && r.table_exists)?.tbl ?? qualified(schema, table);
    const queries = p.queries.map((q) => ({ q, ...probeQuery(q, tbl, p.key, ftExpr.get(`${p.table}|${q.column}`), configFor(ex, p.table, q.column)) }));
    return { probe: p, tbl, queries };
  });
  return { passed, findings, explains, probes };
}

export interface SearchProbeResults {
  explains: Array<{ question: PlanQuestion; scans: string[] }>;
  probes: Array<{ plan: ProbePlan; got: Attempt<Array<{ q: SearchQuery; hits: string[]; error?: string }>> }>;
}

/** Inside the rolled-back probe: the EXPLAINs, then each probe's sample rows and queries, each probe in its own savepoint. */
export async function probeSearch(tx: ProbeSql, explains: readonly PlanQuestion[], probes: readonly ProbePlan[]): Promise<SearchProbeResults> {
  // Tiny tables make a sequential scan cheapest; this asks whether the index CAN serve the
  // query. A plain index scan is off too: a full scan of some other btree index, filtering
  // every row, is not the index serving it. GIN and GiST answer these through bitmap scans.
  await tx.unsafe('SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off');
  const results: SearchProbeResults = { explains: [], probes: [] };
  for (const question of explains) {
    const rows = await tx.unsafe<Record<string, unknown>[]>(`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${question.tbl} WHERE ${question.where}`, question.params);
    const plan = Object.values(rows[0] ?? {})[0];
    results.explains.push({ question, scans: indexesInPlan(typeof plan === 'string' ? JSON.parse(plan) : plan) });
  }
  for (const plan of probes) {
    const got = await attempt(tx, async (sp) => {
      for (const row of plan.probe.rows) {
        const ins = insertProbeRow(plan.tbl, row, '1 AS ok');
        await sp.unsafe(ins.text, ins.params);
      }
      const out: Array<{ q: SearchQuery; hits: string[]; error?: string }> = [];
      for (const { q, text, params } of plan.queries) {
        const hit = await attempt(sp, (s) => s.unsafe<{ hit: string }[]>(text, params));
        out.push(hit.ok ? { q, hits: hit.value.map((h) => h.hit) } : { q, hits: [], error: hit.message });
      }
      return out;
    });
    results.probes.push({ plan, got });
  }
  return results;
}

/** Pure: what the EXPLAINs and the probes proved. */
export function judgeSearchProbes(results: SearchProbeResults, ex: Pick<Expectations, 'search' | 'configFile'>): CheckOutcome {
  const passed: string[] = [];
  const findings: Finding[] = [];
  for (const { question: e, scans } of results.explains) {
    if (scans.includes(e.index.relname)) passed.push(`${e.subject}: the planner uses ${e.index.name} for ${e.operator}`);
    else
      findings.push({
        object: e.index.name,
        message: `the planner does not use ${e.index.name} for ${e.expression} even with sequential scans off (plan scans: ${scans.join(', ') || 'none'})`,
        fix: `ANALYZE ${e.tbl}; -- if it persists, recreate the index: REINDEX INDEX CONCURRENTLY ${e.index.name};`,
      });
  }
  for (const { plan, got } of results.probes) {
    const { probe: p, tbl } = plan;
    if (!got.ok) {
      findings.push({ object: tbl, message: `search probe on ${tbl} could not insert its sample rows: ${got.message}`, fix: `fix checks.policies.search.probes (table ${p.table}) in ${ex.configFile ?? CONFIG_FILE_NAME}` });
      continue;
    }
    for (const { q, hits, error } of got.value) {
      const what = q.kind === 'full-text' ? `full-text "${q.term}"` : q.kind === 'ilike' ? `ILIKE '%${q.term}%'` : `similarity to misspelled "${q.term}"`;
      if (hits.includes(q.expect)) passed.push(`${tbl}.${q.column}: ${what} finds "${q.expect}"`);
      else
        findings.push({
          object: `${tbl}.${q.column}`,
          message: `${what} on ${tbl}.${q.column} ${error ? `failed: ${error}` : `did not find "${q.expect}" (${hits.length} hit${hits.length === 1 ? '' : 's'})`}`,
          fix:
            q.kind === 'similarity'
              ? 'CREATE EXTENSION IF NOT EXISTS pg_trgm; -- and check pg_trgm.word_similarity_threshold'
              : q.kind === 'full-text'
                ? `check the text search configuration of ${tbl}.${q.column} (expected ${configFor(ex, p.table, q.column)})`
                : `check ${tbl}.${q.column} holds the text the probe inserts`,
        });
    }
  }
  return { passed, findings };
}

export async function readSearchColumns(ctx: CheckContext): Promise<SearchRow[]> {
  const s = ctx.expectations.search;
  const want = [
    ...s.fullText.map((f) => ({ kind: 'full-text', ...splitTable(f.table), column: f.column })),
    ...s.trigram.map((f) => ({ kind: 'trigram', ...splitTable(f.table), column: f.column })),
    // The probes' tables and columns too: their names quoted as the catalog spells them, and whether they exist.
    ...s.probes.flatMap((p) => probeColumns(p).map((column) => ({ kind: 'probe', ...splitTable(p.table), column }))),
  ];
  return ctx.sql.unsafe<SearchRow[]>(QUERY, [want.map((w) => w.kind), want.map((w) => w.schema), want.map((w) => w.table), want.map((w) => w.column)] as never[]);
}

export const search: Check = {
  id: 'search',
  title: 'Full-text and trigram search are indexed and work',
  rationale: 'Search without its GIN index is a sequential scan of every row; the trigram fallback is what finds partial and misspelled terms.',
  severity: 'error',
  policy: 'search',
  async run(ctx) {
    const ex = ctx.expectations;
    if (ex.search.fullText.length === 0 && ex.search.trigram.length === 0 && ex.search.probes.length === 0) {
      return { passed: ['no searchable columns configured'], findings: [] };
    }
    const catalog = judgeSearchColumns(await readSearchColumns(ctx), ex);
    const { explains, probes } = catalog;
    if (explains.length === 0 && probes.length === 0) return catalog;
    return mergeOutcomes(catalog, judgeSearchProbes(await ctx.probe((tx) => probeSearch(tx, explains, probes)), ex));
  },
};
