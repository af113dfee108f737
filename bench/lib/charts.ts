import type { BenchmarkId, BenchmarkResult, RunResults } from './results.ts';
import { barChart, formatNumber, lineChart, type Series } from './svg-chart.ts';

/**
 * The charts BENCHMARKS.md shows, drawn from results.json alone (so `--charts-only` can redraw
 * them from any earlier run). Pure. A chart whose numbers a run did not record (an older
 * results file, a benchmark that could not run) is simply not drawn.
 */

export interface Chart {
  benchmark: BenchmarkId;
  /** File name, e.g. `checks-time.svg`. */
  file: string;
  /** What the picture shows, for the Markdown alt text. */
  alt: string;
  svg: string;
}

/** Every file this module may write: the ones a run did not draw are removed, so no stale chart lingers. */
export const CHART_FILES = ['checks-time.svg', 'checks-round-trips.svg', 'uuid-index-size.svg', 'uuid-insert-time.svg', 'search-time.svg'] as const;

/** `{ n: median }` for measurements whose key matches `pattern` with the size as its first group. */
function bySize(b: BenchmarkResult, pattern: RegExp): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of b.measurements) {
    const match = pattern.exec(m.key);
    if (match) out.set(Number(match[1]), m.median);
  }
  return out;
}

const series = (name: string, points: Map<number, number>): Series => ({ name, points: [...points].map(([x, y]) => ({ x, y })).sort((a, b) => a.x - b.x) });

function subtitle(results: RunResults, b: BenchmarkResult): string {
  return [b.server ? `PostgreSQL ${b.server.version}` : '', `scale ${results.scale}`, results.startedAt.slice(0, 10), 'medians'].filter(Boolean).join(' · ');
}

export const formatMsTick = (ms: number) => (ms >= 1000 ? `${formatNumber(ms / 1000)} s` : `${formatNumber(ms)} ms`);
const MIB = 2 ** 20;
const inMiB = (bytes: Map<number, number>) => new Map([...bytes].map(([n, b]) => [n, b / MIB]));
export const formatMiBTick = (mib: number) => `${formatNumber(mib)} MiB`;

function checksCharts(results: RunResults, b: BenchmarkResult): Chart[] {
  const suite = bySize(b, /^time_(\d+)$/);
  const drift = bySize(b, /^drift_time_(\d+)$/);
  const suiteQ = bySize(b, /^queries_(\d+)$/);
  const driftQ = bySize(b, /^drift_queries_(\d+)$/);
  const out: Chart[] = [];
  if (suite.size >= 2) {
    const s = [series('checks suite (schema-drift excluded)', suite), ...(drift.size >= 2 ? [series('schema-drift comparison (reference build excluded)', drift)] : [])];
    out.push({
      benchmark: 'checks',
      file: 'checks-time.svg',
      alt: 'Checks suite and schema-drift comparison time against the number of generated tables',
      svg: lineChart({ title: 'Checks: time against schema size', subtitle: subtitle(results, b), x: { label: 'generated tables (log scale)', scale: 'log' }, y: { label: 'time per run', format: formatMsTick }, series: s }),
    });
  }
  if (suiteQ.size >= 2) {
    const s = [series('checks suite (schema-drift excluded)', suiteQ), ...(driftQ.size >= 2 ? [series('schema-drift comparison, both sides', driftQ)] : [])];
    out.push({
      benchmark: 'checks',
      file: 'checks-round-trips.svg',
      alt: 'SQL round trips of the checks suite and of the schema-drift comparison against the number of generated tables: flat',
      svg: lineChart({ title: 'Checks: SQL round trips against schema size', subtitle: subtitle(results, b), x: { label: 'generated tables (log scale)', scale: 'log' }, y: { label: 'SQL round trips per run' }, series: s }),
    });
  }
  return out;
}

function uuidCharts(results: RunResults, b: BenchmarkResult): Chart[] {
  const out: Chart[] = [];
  const size = { v7: bySize(b, /^pkey_v7_at_(\d+)$/), v4: bySize(b, /^pkey_v4_at_(\d+)$/) };
  const time = { v7: bySize(b, /^insert_v7_at_(\d+)$/), v4: bySize(b, /^insert_v4_at_(\d+)$/) };
  const x = { label: 'rows inserted (batches, key from the column DEFAULT)' };
  if (size.v7.size >= 2 && size.v4.size >= 2) {
    out.push({
      benchmark: 'uuid',
      file: 'uuid-index-size.svg',
      alt: 'Primary-key index size of UUIDv7 and UUIDv4 keys against rows inserted',
      svg: lineChart({ title: 'UUID primary key: index size against rows', subtitle: subtitle(results, b), x, y: { label: 'primary-key index size', format: formatMiBTick }, series: [series('uuid_generate_v7()', inMiB(size.v7)), series('gen_random_uuid() (v4)', inMiB(size.v4))] }),
    });
  }
  if (time.v7.size >= 2 && time.v4.size >= 2) {
    out.push({
      benchmark: 'uuid',
      file: 'uuid-insert-time.svg',
      alt: 'Cumulative insert time with UUIDv7 and UUIDv4 keys against rows inserted',
      svg: lineChart({ title: 'UUID primary key: insert time against rows', subtitle: subtitle(results, b), x, y: { label: 'time since the first row', format: formatMsTick }, series: [series('uuid_generate_v7()', time.v7), series('gen_random_uuid() (v4)', time.v4)] }),
    });
  }
  return out;
}

function searchCharts(results: RunResults, b: BenchmarkResult): Chart[] {
  const categories: string[] = [];
  const values: Array<[number, number]> = [];
  for (const m of b.measurements) {
    const match = /^(.+)_index$/.exec(m.key);
    const seq = match && b.measurements.find((x) => x.key === `${match[1]}_seq`);
    if (!match || !seq) continue;
    categories.push(m.label.replace(/, with index$/, ''));
    values.push([m.median, seq.median]);
  }
  if (!categories.length) return [];
  return [
    {
      benchmark: 'search',
      file: 'search-time.svg',
      alt: 'Search query time with the index and with indexes disabled (sequential scan), per query',
      svg: barChart({ title: 'Search: indexed against sequential scan', subtitle: subtitle(results, b), categories, series: ['with index', 'indexes disabled (sequential scan)'], values, x: { label: 'query time (log scale)', scale: 'log', format: formatMsTick } }),
    },
  ];
}

const DRAW: Partial<Record<BenchmarkId, (results: RunResults, b: BenchmarkResult) => Chart[]>> = { checks: checksCharts, uuid: uuidCharts, search: searchCharts };

export function chartsFor(results: RunResults): Chart[] {
  return results.benchmarks.filter((b) => b.status === 'ok').flatMap((b) => DRAW[b.id]?.(results, b) ?? []);
}
