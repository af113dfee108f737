import type { BenchmarkResult, Measurement, RatioResult, RunResults, Unit } from './results.ts';
import { ratiosForPrint } from './results.ts';
import { borderline, formatBytes, formatMs, formatNumber, formatRatio, type Target } from './stats.ts';

/** BENCHMARKS.md from results.json. Pure: the same results always render the same text. */

export function formatValue(value: number, unit: Unit): string {
  switch (unit) {
    case 'ms':
      return formatMs(value);
    case 'bytes':
      return formatBytes(value);
    case 'rows/s':
      return `${formatNumber(value)} rows/s`;
    case 'queries':
      return `${formatNumber(value)} queries`;
    case 'rows':
      return `${formatNumber(value)} rows`;
  }
}

/** Counts stay whole numbers (20, 1,000,000); measured values keep three significant digits. */
export function formatParam(v: number | string): string {
  if (typeof v === 'string') return v;
  return Number.isInteger(v) ? v.toLocaleString('en-US') : formatNumber(v);
}

export function formatTarget(t: Target | undefined): string {
  return t ? `${t.op === '<=' ? '≤' : '≥'} ${t.value}` : '';
}

/** Escapes what would break a table cell. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

export function verdictText(r: Pick<RatioResult, 'verdict' | 'value' | 'target'>): string {
  const edge = borderline(r.value, r.target) ? ' (borderline)' : '';
  switch (r.verdict) {
    case 'confirmed':
      return `✅ confirmed${edge}`;
    case 'refuted':
      return `❌ refuted${edge}`;
    case 'not measured':
      return 'not measured';
    case 'no target':
      return '';
  }
}

function measurementOf(b: BenchmarkResult, key: string): Measurement | undefined {
  return b.measurements.find((m) => m.key === key);
}

function ratioRows(b: BenchmarkResult): string[][] {
  // Headlines first in the table (they are printed last on the console).
  return [...b.ratios.filter((r) => r.headline), ...b.ratios.filter((r) => !r.headline)].map((r) => {
    const num = measurementOf(b, r.numerator);
    const den = measurementOf(b, r.denominator);
    return [
      r.headline ? `**${r.label}**` : r.label,
      r.headline ? `**${formatRatio(r.value)}**` : formatRatio(r.value),
      formatTarget(r.target),
      verdictText(r),
      num ? formatValue(num.median, num.unit) : '',
      den ? formatValue(den.median, den.unit) : '',
    ];
  });
}

function measurementRows(b: BenchmarkResult): string[][] {
  return b.measurements.map((m) => [m.label, formatValue(m.median, m.unit), m.n > 1 ? `${formatValue(m.min, m.unit)} – ${formatValue(m.max, m.unit)}` : '', String(m.n)]);
}

/** A chart as BENCHMARKS.md links it: the SVG's path relative to the Markdown file. */
export interface ChartLink {
  benchmark: string;
  path: string;
  alt: string;
}

export function renderBenchmark(b: BenchmarkResult, index: number, date: string, charts: readonly ChartLink[] = []): string {
  const out: string[] = [`## ${index}. ${b.title}`, '', b.question, ''];
  const server = b.server ? `PostgreSQL ${b.server.version} (\`${b.server.binDir}\`)` : 'no server started';
  out.push(`${server} · measured ${date}${b.durationMs ? ` · took ${formatMs(b.durationMs)}` : ''}`, '');
  if (b.status !== 'ok') {
    out.push(`**${b.status === 'unavailable' ? 'Not measured' : 'Failed'}:** ${b.reason ?? 'no reason recorded'}`, '');
  }
  if (b.ratios.length) {
    out.push(table(['Ratio', 'Value', 'Target', 'Verdict', 'Numerator (median)', 'Denominator (median)'], ratioRows(b)), '');
  }
  for (const chart of charts.filter((c) => c.benchmark === b.id)) out.push(`![${chart.alt}](${chart.path})`, '');
  if (b.measurements.length) {
    out.push('<details><summary>Raw medians</summary>', '', table(['Measurement', 'Median', 'Range', 'Runs'], measurementRows(b)), '', '</details>', '');
  }
  const params = Object.entries(b.params);
  if (params.length) {
    out.push(table(['Parameter', 'Value'], params.map(([k, v]) => [k, formatParam(v)])), '');
  }
  if (b.notes.length) out.push(...b.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

export function renderSummary(results: RunResults): string {
  const rows: string[][] = [];
  results.benchmarks.forEach((b, i) => {
    const headlines = b.ratios.filter((r) => r.headline);
    const name = `${i + 1}. ${b.title}`;
    if (headlines.length === 0) {
      rows.push([name, b.status === 'ok' ? '' : `${b.status === 'unavailable' ? 'not measured' : 'failed'}: ${b.reason ?? ''}`, '', '', '']);
    }
    for (const h of headlines) rows.push([name, h.label, formatRatio(h.value), formatTarget(h.target), verdictText(h)]);
  });
  return table(['Benchmark', 'Headline ratio', 'Value', 'Target', 'Verdict'], rows);
}

export function renderMarkdown(results: RunResults, resultsPath = 'bench/results.json', charts: readonly ChartLink[] = []): string {
  const date = results.startedAt.slice(0, 10);
  const m = results.machine;
  const servers = [...new Set(results.benchmarks.filter((b) => b.server).map((b) => `PostgreSQL ${b.server!.version}`))].join(', ');
  const head = [
    '# Benchmarks',
    '',
    `<!-- Generated by \`npm run bench -- --scale ${results.scale}\`; edits are overwritten. Raw numbers: ${resultsPath}. -->`,
    '',
    `Measured ${results.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} at scale **${results.scale}** on ${m.cpus} CPUs, ${m.memoryGiB} GiB, Node ${m.node} (${m.platform}); ${servers || 'no server'}; the whole run took ${formatMs(results.durationMs)}.`,
    '',
    'Every number is a ratio of two medians taken in the same run on the same machine: absolute times',
    'depend on the machine and are shown only to make the ratios traceable. Each timed step ran at',
    'least five times, the two sides alternating (A B, B A, …) so that drift favours neither; the',
    'tables give the median and the range. The bench starts its own PostgreSQL in a temporary folder',
    'on a free port and never touches the `npm start` cluster. A verdict marked *borderline* lies',
    'within 10% of its target: on a shared machine another run may well land on the other side.',
    '',
    'Run it yourself: `npm run bench` (full sizes, this report), `npm run bench -- --scale small`',
    '(a quick look in under two minutes, written to bench/out/), `npm run bench -- --help`. The',
    'charts are SVG files the bench draws from the results file (`npm run bench -- --charts-only`',
    'redraws them); what each benchmark measures is explained in docs/benchmarks.md.',
    '',
    '## Summary',
    '',
    renderSummary(results),
    '',
  ];
  return [...head, ...results.benchmarks.map((b, i) => renderBenchmark(b, i + 1, date, charts))].join('\n').trimEnd() + '\n';
}

/** The lines a benchmark prints when it finishes: every ratio, the headline last. */
export function ratioLines(b: BenchmarkResult): string[] {
  if (b.status !== 'ok' && b.ratios.length === 0) return [`${b.id}: ${b.status === 'unavailable' ? 'not measured' : 'failed'}: ${b.reason ?? ''}`];
  return ratiosForPrint(b).map((r) => {
    const target = r.target ? ` (target ${formatTarget(r.target)}: ${r.verdict}${borderline(r.value, r.target) ? ', borderline' : ''})` : '';
    return `${b.id}: ${r.label} = ${formatRatio(r.value)}${target}`;
  });
}
