import { describe, expect, it } from 'vitest';
import { chartsFor } from './charts.ts';
import type { BenchmarkResult, Measurement, RunResults } from './results.ts';
import { barChart, escapeXml, formatNumber, lineChart, linearTicks, logTicks } from './svg-chart.ts';

/** Tags open and close in order, every attribute value is quoted, and nothing but the svg is at the top: enough to be an image a browser shows. */
function assertWellFormed(svg: string): void {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.endsWith('</svg>\n')).toBe(true);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)((?:\s+[a-zA-Z][\w:-]*="[^"<]*")*)\s*(\/?)>/g)) {
    const [, closing, name, , selfClosing] = m;
    if (selfClosing) continue;
    if (closing) expect(stack.pop(), `</${name}>`).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
  // Every "<" starts a tag the pattern above understood: no raw text escaped badly.
  const tags = [...svg.matchAll(/<(\/?)([a-z]+)((?:\s+[a-zA-Z][\w:-]*="[^"<]*")*)\s*(\/?)>/g)].length;
  expect(svg.split('<').length - 1).toBe(tags);
}

describe('numbers and ticks', () => {
  it('formats tick labels short', () => {
    expect([0, 0.25, 1.5, 12, 999, 1000, 3000, 12_500, 200_000, 1_500_000, 31_563_776].map(formatNumber)).toEqual(['0', '0.25', '1.5', '12', '999', '1,000', '3,000', '12.5k', '200k', '1.5M', '32M']);
  });

  it('gives round linear ticks from zero past the maximum', () => {
    expect(linearTicks(0, 420)).toEqual([0, 100, 200, 300, 400, 500]);
    expect(linearTicks(0, 26)).toEqual([0, 10, 20, 30]);
    expect(linearTicks(0, 101)).toEqual([0, 25, 50, 75, 100, 125]);
  });

  it('gives powers of ten on a log axis, with 2 and 5 between them over a short range', () => {
    expect(logTicks(10, 3000)).toEqual([10, 100, 1000, 10000]);
    expect(logTicks(1.2, 115)).toEqual([1, 2, 5, 10, 20, 50, 100, 200]);
    expect(() => logTicks(0, 10)).toThrow(/positive/);
  });

  it('escapes text for XML', () => {
    expect(escapeXml('a < b & "c" > d')).toBe('a &lt; b &amp; &quot;c&quot; &gt; d');
  });
});

describe('lineChart', () => {
  const spec = { title: 'T <&>', x: { label: 'tables', scale: 'log' as const }, y: { label: 'ms' }, series: [{ name: 'a', points: [{ x: 1000, y: 200 }, { x: 10, y: 100 }] }] };

  it('places points on the axes it draws: log x, linear y from zero', () => {
    const svg = lineChart(spec);
    // 640 × 380, 56 on the left and 20 on the right, title and one legend line above: the plot spans x 56..620, y 66..332.
    expect(svg).toContain('<polyline fill="none" stroke="#0072B2" stroke-width="2" points="56,199 620,66"/>');
    expect(svg).toContain('<circle cx="56" cy="199" r="3.5" fill="#0072B2"><title>a: 10 → 100</title></circle>');
    for (const tick of ['10', '100', '1,000']) expect(svg).toMatch(new RegExp(`text-anchor="middle" font-size="11" fill="#444" [^>]*>${tick}</text>`));
    for (const tick of ['0', '50', '100', '150', '200']) expect(svg).toMatch(new RegExp(`text-anchor="end" font-size="11" fill="#444" [^>]*>${tick}</text>`));
  });

  it('is well-formed, escapes its text, and gives the same bytes for the same spec', () => {
    const svg = lineChart(spec);
    assertWellFormed(svg);
    expect(svg).toContain('<title>T &lt;&amp;&gt;</title>');
    expect(svg).not.toContain('T <&>');
    expect(lineChart(spec)).toBe(svg);
  });

  it('draws one coloured line and legend entry per series', () => {
    const svg = lineChart({ ...spec, series: [...spec.series, { name: 'b', points: [{ x: 10, y: 1 }, { x: 1000, y: 1 }] }] });
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('stroke="#D55E00"');
    expect(svg).toMatch(/>a<\/text>/);
    expect(svg).toMatch(/>b<\/text>/);
  });

  it('refuses a chart with nothing to draw', () => {
    expect(() => lineChart({ ...spec, series: [{ name: 'a', points: [] }] })).toThrow(/no points/);
  });
});

describe('barChart', () => {
  it('draws one bar per category and series, on a log axis, with its value', () => {
    const svg = barChart({ title: 'Search', categories: ['q1', 'q2'], series: ['index', 'seq'], values: [[1, 100], [10, undefined]], x: { label: 'ms', scale: 'log' } });
    assertWellFormed(svg);
    const bars = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="12" fill="(#[0-9A-F]+)"><title>([^<]+)<\/title>/g)].map((m) => [m[4], Number(m[2]), m[3]]);
    // Ticks 1, 10, 100 over the plot's width: 1 is at the axis (a 1-px sliver), 10 halfway, 100 at the end.
    const plotW = 720 - 30 - 70;
    expect(bars).toEqual([
      ['q1, index: 1', 1, '#0072B2'],
      ['q1, seq: 100', Math.round(plotW * 10) / 10, '#D55E00'],
      ['q2, index: 10', Math.round((plotW / 2) * 10) / 10, '#0072B2'],
    ]);
  });
});

describe('chartsFor (results.json → charts)', () => {
  const m = (key: string, median: number, unit: Measurement['unit'] = 'ms', label = key): Measurement => ({ key, label, unit, samples: [median], median, min: median, max: median, n: 1 });
  const bench = (id: BenchmarkResult['id'], measurements: Measurement[]): BenchmarkResult => ({ id, title: id, question: '', status: 'ok', params: {}, measurements, ratios: [], notes: [], durationMs: 1, server: { version: '17.10', binDir: '/x' } });
  const run = (benchmarks: BenchmarkResult[]): RunResults => ({ tool: 'pgsteward bench', scale: 'full', startedAt: '2026-12-01T00:00:00.000Z', finishedAt: '', durationMs: 1, machine: { cpus: 2, memoryGiB: 4, node: 'v20', platform: 'linux x64' }, benchmarks });

  it('draws checks time and round trips over every size, uuid curves, and search pairs', () => {
    const sizes = [10, 100, 1000, 3000];
    const charts = chartsFor(
      run([
        bench('checks', sizes.flatMap((n, i) => [m(`time_${n}`, 100 + i * 50), m(`queries_${n}`, 101, 'queries'), m(`drift_time_${n}`, 50 + i * 20), m(`drift_queries_${n}`, 46, 'queries')])),
        bench('uuid', [100_000, 1_000_000].flatMap((n) => [m(`insert_v7_at_${n}`, n / 100), m(`insert_v4_at_${n}`, n / 90), m(`pkey_v7_at_${n}`, n * 31, 'bytes'), m(`pkey_v4_at_${n}`, n * 39, 'bytes')])),
        bench('search', [m('fts_index', 1.3, 'ms', 'full-text "a b", with index'), m('fts_seq', 116, 'ms', 'full-text "a b", indexes disabled'), m('lonely_index', 3)]),
      ]),
    );
    expect(charts.map((c) => c.file)).toEqual(['checks-time.svg', 'checks-round-trips.svg', 'uuid-index-size.svg', 'uuid-insert-time.svg', 'search-time.svg']);
    const time = charts[0]!.svg;
    expect(time.match(/<circle /g)).toHaveLength(8);
    expect(time).toContain('PostgreSQL 17.10 · scale full · 2026-12-01 · medians');
    expect(time).toContain('checks suite (schema-drift excluded): 3,000 → 250 ms');
    expect(charts[2]!.svg).toContain('uuid_generate_v7(): 1M → 30 MiB');
    expect(charts[4]!.svg).toContain('full-text &quot;a b&quot;, with index: 1.3 ms');
    expect(charts[4]!.svg.match(/<rect [^>]*><title>/g)).toHaveLength(2);
    for (const c of charts) assertWellFormed(c.svg);
  });

  it('draws nothing it has no numbers for: an older results file, a benchmark that did not run', () => {
    const old = run([bench('checks', [m('time_few', 120), m('time_many', 400)]), { ...bench('uuid', [m('insert_v7_at_1', 1), m('insert_v7_at_2', 2)]), status: 'failed' }]);
    expect(chartsFor(old)).toEqual([]);
  });
});
