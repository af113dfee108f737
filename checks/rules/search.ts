import type { Check, Finding, ProbeSql } from '../types.ts';
import { splitTable, type Expectations } from '../expectations.ts';
import { attempt, insertProbeRow } from '../lib/probe.ts';
import { derivedIdent, derivedName, qualified } from '../lib/names.ts';

interface IndexFacts {
  name: string;
  relname: string;
  am: string;
  keys: string[];
  classes: string[];
  usable: boolean;
}

interface Row {
  kind: 'full-text' | 'trigram';
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
         WHERE i.indrelid = c.oid) AS indexes
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS w(kind, schema, tbl, col, ord)
LEFT JOIN pg_namespace n ON n.nspname = w.schema
LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.tbl AND c.relkind IN ('r', 'p', 'm')
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = w.col AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY w.ord`;

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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
      if (/^to_tsvector\(/.test(k) && new RegExp(`\\b${esc(bare)}\\b`).test(k)) return { index: ix, expression: k };
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

async function explainUses(tx: ProbeSql, table: string, where: string, params: string[], index: IndexFacts): Promise<{ used: boolean; scans: string[] }> {
  const rows = await tx.unsafe<Record<string, unknown>[]>(`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${table} WHERE ${where}`, params);
  const plan = Object.values(rows[0] ?? {})[0];
  const scans = indexesInPlan(typeof plan === 'string' ? JSON.parse(plan) : plan);
  return { used: scans.includes(index.relname), scans };
}

function configFor(ex: Expectations, key: string, column: string): string {
  return ex.search.fullText.find((f) => f.table === key && f.column === column)?.config ?? 'simple';
}

export const search: Check = {
  id: 'search',
  title: 'Full-text and trigram search are indexed and work',
  rationale: 'Search without its GIN index is a sequential scan of every row; the trigram fallback is what finds partial and misspelled terms.',
  severity: 'error',
  async run(ctx) {
    const ex = ctx.expectations;
    const want = [
      ...ex.search.fullText.map((f) => ({ kind: 'full-text', ...splitTable(f.table), column: f.column })),
      ...ex.search.trigram.map((f) => ({ kind: 'trigram', ...splitTable(f.table), column: f.column })),
    ];
    const passed: string[] = [];
    const findings: Finding[] = [];
    if (want.length === 0 && ex.search.probes.length === 0) return { passed: ['no searchable columns configured'], findings };
    const rows = await ctx.sql.unsafe<Row[]>(QUERY, [want.map((w) => w.kind), want.map((w) => w.schema), want.map((w) => w.table), want.map((w) => w.column)] as never[]);

    const explains: Array<(tx: ProbeSql) => Promise<void>> = [];
    /** How a probe query on (table, column) reaches its index. */
    const ftExpr = new Map<string, string>();
    for (const r of rows) {
      const subject = `${r.tbl}.${r.column ?? r.raw_column}`;
      if (!r.table_exists || !r.column) {
        findings.push({
          object: subject,
          message: `${subject} is configured as ${r.kind} searchable but ${r.table_exists ? 'the column' : 'the table'} does not exist`,
          fix: 'create it in a migration, or correct search in checks/expectations.ts',
        });
        continue;
      }
      const column = r.column;
      const indexes = r.indexes ?? [];
      if (r.kind === 'full-text') {
        const cfg = configFor(ex, r.key, r.raw_column);
        const found = fullTextIndex(indexes, column);
        if (!found) {
          const name = derivedIdent(derivedName(r.raw_table, [r.raw_column], 'idx'));
          const expr = r.type === 'tsvector' ? column : `to_tsvector('${cfg}', ${column})`;
          findings.push({
            object: subject,
            message: `${subject} (${r.type}) has no usable GIN index for full-text search`,
            fix: `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${r.tbl} USING gin (${expr});`,
          });
          continue;
        }
        ftExpr.set(`${r.key}|${r.raw_column}`, found.expression);
        passed.push(`${subject}: GIN index ${found.index.name}`);
        explains.push(async (tx) => {
          const e = await explainUses(tx, r.tbl, `${found.expression} @@ websearch_to_tsquery($1::regconfig, $2)`, [cfg, 'pgsteward probe'], found.index);
          if (e.used) passed.push(`${subject}: the planner uses ${found.index.name} for @@`);
          else
            findings.push({
              object: found.index.name,
              message: `the planner does not use ${found.index.name} for ${found.expression} @@ tsquery even with sequential scans off (plan scans: ${e.scans.join(', ') || 'none'})`,
              fix: `ANALYZE ${r.tbl}; -- if it persists, recreate the index: REINDEX INDEX CONCURRENTLY ${found.index.name};`,
            });
        });
      } else {
        const found = trigramIndex(indexes, column);
        if (!found) {
          const name = derivedIdent(derivedName(r.raw_table, [r.raw_column, 'trgm'], 'idx'));
          findings.push({
            object: subject,
            message: `${subject} has no usable gin_trgm_ops or gist_trgm_ops index, so ILIKE '%…%' and similarity search scan the table`,
            fix: `CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${r.tbl} USING gin (${column} gin_trgm_ops);`,
          });
          continue;
        }
        passed.push(`${subject}: trigram index ${found.name}`);
        explains.push(async (tx) => {
          const e = await explainUses(tx, r.tbl, `${column} ILIKE $1`, [likePattern('pgsteward probe')], found);
          if (e.used) passed.push(`${subject}: the planner uses ${found.name} for ILIKE '%…%'`);
          else
            findings.push({
              object: found.name,
              message: `the planner does not use ${found.name} for ${column} ILIKE '%…%' even with sequential scans off (plan scans: ${e.scans.join(', ') || 'none'})`,
              fix: `ANALYZE ${r.tbl}; -- if it persists, recreate the index: REINDEX INDEX CONCURRENTLY ${found.name};`,
            });
        });
      }
    }

    const probes = ex.search.probes;
    if (explains.length === 0 && probes.length === 0) return { passed, findings };
    await ctx.probe(async (tx) => {
      // Tiny tables make a sequential scan cheapest; this asks whether the index CAN serve the query.
      await tx.unsafe('SET LOCAL enable_seqscan = off');
      for (const explain of explains) await explain(tx);
      for (const p of probes) {
        const { schema, table } = splitTable(p.table);
        const tbl = rows.find((r) => r.key === p.table)?.tbl ?? qualified(schema, table);
        const found = await attempt(tx, async (sp) => {
          for (const row of p.rows) {
            const ins = insertProbeRow(tbl, row, '1 AS ok');
            await sp.unsafe(ins.text, ins.params);
          }
          const results: Array<{ q: (typeof p.queries)[number]; hits: string[]; error?: string }> = [];
          for (const q of p.queries) {
            const key = `"${p.key.replace(/"/g, '""')}"`;
            const col = `"${q.column.replace(/"/g, '""')}"`;
            const query =
              q.kind === 'full-text'
                ? { text: `SELECT ${key}::text AS hit FROM ${tbl} WHERE ${ftExpr.get(`${p.table}|${q.column}`) ?? col} @@ websearch_to_tsquery($1::regconfig, $2)`, params: [configFor(ex, p.table, q.column), q.term] }
                : q.kind === 'ilike'
                  ? { text: `SELECT ${key}::text AS hit FROM ${tbl} WHERE ${col} ILIKE $1`, params: [likePattern(q.term)] }
                  : { text: `SELECT ${key}::text AS hit FROM ${tbl} WHERE $1 <% ${col} ORDER BY word_similarity($1, ${col}) DESC LIMIT 100`, params: [q.term] };
            const got = await attempt(sp, (s) => s.unsafe<{ hit: string }[]>(query.text, query.params));
            results.push(got.ok ? { q, hits: got.value.map((h) => h.hit) } : { q, hits: [], error: got.message });
          }
          return results;
        });
        if (!found.ok) {
          findings.push({ object: tbl, message: `search probe on ${tbl} could not insert its sample rows: ${found.message}`, fix: `fix search.probes for ${p.table} in checks/expectations.ts` });
          continue;
        }
        for (const { q, hits, error } of found.value) {
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
    });
    return { passed, findings };
  },
};
