import type { Check, Finding } from '../types.ts';
import { splitTable } from '../expectations.ts';
import { attempt, insertProbeRow, UNIQUE_VIOLATION } from '../lib/probe.ts';

/** With a lower-case CHECK, the other-case address is refused before it reaches the index. */
const CHECK_VIOLATION = '23514';
import { derivedIdent, derivedName } from '../lib/names.ts';

interface UniqueIndex {
  name: string;
  relname: string;
  key: string;
  partial: boolean;
  nondeterministic: boolean;
}

interface Row {
  key: string;
  raw_table: string;
  raw_column: string;
  tbl: string;
  table_exists: boolean;
  column: string | null;
  type: string | null;
  nondeterministic: boolean | null;
  unique_indexes: UniqueIndex[] | null;
  checks: string[] | null;
}

const QUERY = `
SELECT w.schema || '.' || w.tbl AS key, w.tbl AS raw_table, w.col AS raw_column,
       format('%I.%I', w.schema, w.tbl) AS tbl,
       c.oid IS NOT NULL AS table_exists,
       quote_ident(a.attname) AS column,
       format_type(a.atttypid, a.atttypmod) AS type,
       (SELECT NOT co.collisdeterministic FROM pg_collation co WHERE co.oid = a.attcollation) AS nondeterministic,
       (SELECT jsonb_agg(jsonb_build_object(
                 'name', format('%I.%I', w.schema, ic.relname),
                 'relname', ic.relname,
                 'key', pg_get_indexdef(i.indexrelid, 1, true),
                 'partial', i.indpred IS NOT NULL,
                 'nondeterministic', coalesce((SELECT NOT co.collisdeterministic FROM pg_collation co
                                               WHERE co.oid = (string_to_array(i.indcollation::text, ' '))[1]::oid), false))
               ORDER BY ic.relname)
          FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
         WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid AND i.indnkeyatts = 1) AS unique_indexes,
       (SELECT jsonb_agg(pg_get_constraintdef(k.oid)) FROM pg_constraint k
         WHERE k.conrelid = c.oid AND k.contype = 'c' AND a.attnum = ANY (k.conkey)) AS checks
FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS w(schema, tbl, col, ord)
LEFT JOIN pg_namespace n ON n.nspname = w.schema
LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.tbl AND c.relkind IN ('r', 'p')
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = w.col AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY w.ord`;

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * How a unique index makes a column unique regardless of case, or undefined if it does not:
 * a unique lower()/upper() expression, a case-insensitive column type or collation, or a plain
 * unique index on a column a CHECK constraint keeps in lower case.
 */
export function caseInsensitiveBy(ix: UniqueIndex, column: string, type: string, checks: readonly string[]): string | undefined {
  if (ix.partial) return undefined;
  const col = `"?${esc(column.replace(/^"|"$/g, ''))}"?`;
  if (new RegExp(`^(lower|upper)\\(\\(?${col}\\)?(::text)?\\)$`, 'i').test(ix.key)) return `unique ${ix.key.split('(')[0]!.toLowerCase()}() index ${ix.name}`;
  if (!new RegExp(`^${col}$`).test(ix.key)) return undefined;
  if (type === 'citext') return `unique index ${ix.name} on a citext column`;
  if (ix.nondeterministic) return `unique index ${ix.name} with a nondeterministic collation`;
  const lowered = checks.find((c) => new RegExp(`\\(\\(?${col}\\)?(::text)? = lower\\(\\(?${col}\\)?(::text)?\\)\\)`, 'i').test(c));
  if (lowered) return `unique index ${ix.name} and ${lowered}`;
  return undefined;
}

function swapCase(s: string): string {
  return [...s].map((ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase())).join('');
}

export const emailUnique: Check = {
  id: 'email-unique',
  title: 'E-mail addresses are unique regardless of case',
  rationale: 'Alice@Example.com and alice@example.com are one mailbox; two accounts for it break login, password reset and GDPR requests.',
  severity: 'error',
  async run(ctx) {
    const ex = ctx.expectations;
    const want = ex.emailColumns.map((e) => ({ ...splitTable(e.table), column: e.column }));
    if (want.length === 0) return { passed: ['no e-mail columns configured'], findings: [] };
    const rows = await ctx.sql.unsafe<Row[]>(QUERY, [want.map((w) => w.schema), want.map((w) => w.table), want.map((w) => w.column)] as never[]);
    const passed: string[] = [];
    const findings: Finding[] = [];
    const probes: Array<{ row: Row; index: UniqueIndex; viaCheck: boolean }> = [];

    for (const r of rows) {
      if (!r.table_exists || !r.column) {
        findings.push({
          object: `${r.tbl}.${r.raw_column}`,
          message: `${r.tbl}.${r.raw_column} is configured as an e-mail column but ${r.table_exists ? 'the column' : 'the table'} does not exist`,
          fix: 'create it in a migration, or correct emailColumns in checks/expectations.ts',
        });
        continue;
      }
      const indexes = r.unique_indexes ?? [];
      const hit = indexes.map((ix) => ({ ix, by: caseInsensitiveBy(ix, r.column!, r.type ?? '', r.checks ?? []) })).find((h) => h.by);
      if (hit) {
        passed.push(`${r.tbl}.${r.column}: ${hit.by}`);
        probes.push({ row: r, index: hit.ix, viaCheck: hit.by!.includes('CHECK') });
      } else {
        const name = derivedIdent(derivedName(r.raw_table, [r.raw_column, 'lower'], 'key'));
        findings.push({
          object: `${r.tbl}.${r.column}`,
          message: `${r.tbl}.${r.column} is not unique regardless of case (${indexes.length ? `unique indexes: ${indexes.map((i) => i.key).join(', ')}` : 'no unique index'}); first find clashes with SELECT lower(${r.column}), count(*) FROM ${r.tbl} GROUP BY 1 HAVING count(*) > 1`,
          fix: `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${r.tbl} (lower(${r.column}));`,
        });
      }
    }

    // Behaviour: the same address in other letter case must be refused by that very index.
    const runnable = probes.filter((p) => ex.probeRows[p.row.key]?.[p.row.raw_column]);
    if (runnable.length > 0) {
      await ctx.probe(async (tx) => {
        for (const { row: r, index, viaCheck } of runnable) {
          const sample = ex.probeRows[r.key]!;
          const variant = Object.fromEntries(
            Object.entries(sample).map(([k, v]) => [k, k === r.raw_column ? swapCase(v) : `${v}2`]),
          );
          const first = insertProbeRow(r.tbl, sample, '1 AS ok');
          const second = insertProbeRow(r.tbl, variant, '1 AS ok');
          const got = await attempt(tx, async (sp) => {
            await sp.unsafe(first.text, first.params);
            const clash = await attempt(sp, (sp2) => sp2.unsafe(second.text, second.params));
            return clash;
          });
          const clash = got.ok ? got.value : undefined;
          if (!got.ok) {
            findings.push({ object: r.tbl, message: `probe insert into ${r.tbl} failed: ${got.message}`, fix: `fix the probe row for ${r.key} in checks/expectations.ts`, severity: 'warning' });
          } else if (clash && !clash.ok && ((clash.code === UNIQUE_VIOLATION && clash.constraint === index.relname) || (viaCheck && clash.code === CHECK_VIOLATION))) {
            passed.push(`${r.tbl}.${r.column}: ${variant[r.raw_column]} was refused after ${sample[r.raw_column]} (${viaCheck ? 'CHECK and ' : ''}${index.name})`);
          } else if (clash && clash.ok) {
            findings.push({
              object: `${r.tbl}.${r.column}`,
              message: `a probe inserted both ${sample[r.raw_column]} and ${variant[r.raw_column]} into ${r.tbl}`,
              fix: `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${derivedIdent(derivedName(r.raw_table, [r.raw_column, 'lower'], 'key'))} ON ${r.tbl} (lower(${r.column}));`,
            });
          } else {
            findings.push({
              object: r.tbl,
              message: `probe was inconclusive: the second insert into ${r.tbl} failed for another reason: ${clash && !clash.ok ? clash.message : 'unknown'}`,
              fix: `make the probe row for ${r.key} in checks/expectations.ts unique in its other columns`,
              severity: 'warning',
            });
          }
        }
      });
    }
    return { passed, findings };
  },
};
