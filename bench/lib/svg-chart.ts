/**
 * Plain SVG charts for BENCHMARKS.md: a line chart (a value against a size, one line per
 * series) and a horizontal grouped bar chart (one group per category, one bar per series).
 * Pure: the same spec always gives the same bytes, so a re-rendered chart only changes when
 * its numbers do. No dependency: GitHub shows an SVG file referenced from Markdown as an image,
 * and these need nothing a template cannot give (axes, ticks, a legend, log scales).
 */

export type ScaleKind = 'linear' | 'log';

export interface Axis {
  label: string;
  scale?: ScaleKind;
  /** Tick label text; default formatNumber. */
  format?: (value: number) => string;
}

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  name: string;
  points: readonly Point[];
}

export interface LineChartSpec {
  title: string;
  subtitle?: string;
  x: Axis;
  y: Axis;
  series: readonly Series[];
  width?: number;
  height?: number;
}

export interface BarChartSpec {
  title: string;
  subtitle?: string;
  /** One group of bars per category, top to bottom. */
  categories: readonly string[];
  /** One bar per series in every group. */
  series: readonly string[];
  /** values[category][series]; a missing value draws no bar. */
  values: ReadonlyArray<ReadonlyArray<number | undefined>>;
  /** The value axis (horizontal). */
  x: Axis;
  width?: number;
}

/** Colour-blind-safe (Okabe–Ito), in series order. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9'] as const;

const FONT = 'font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Coordinates with one decimal: enough for a screen, and stable text. */
const c = (v: number) => (Math.round(v * 10) / 10).toString();

/** `1`, `2.5`, `10`, `1,000`, `3.2k`, `1.5M`: short tick labels. */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  const trim = (s: string) => s.replace(/\.0+$/, '').replace(/(\.\d*?)0+$/, '$1');
  if (a >= 1e6) return `${trim((v / 1e6).toFixed(a >= 1e7 ? 0 : 1))}M`;
  if (a >= 1e4) return `${trim((v / 1e3).toFixed(a >= 1e5 ? 0 : 1))}k`;
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 10 || a === 0) return trim(v.toFixed(0));
  if (a >= 1) return trim(v.toFixed(1));
  return trim(v.toPrecision(2));
}

/** Round tick values covering [min, max] for a linear axis, about `count` of them, starting at or below min. */
export function linearTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let t = first; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

/** Powers of ten covering [min, max] (with 2 and 5 between them when the range spans under two decades). */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max > 0)) throw new Error('a log axis needs positive values');
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const steps = Math.log10(max / min) <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) for (const m of steps) ticks.push(Number((m * 10 ** e).toPrecision(12)));
  // Keep one tick at or below min and one at or above max, nothing further out.
  const below = ticks.filter((t) => t <= min).at(-1) ?? ticks[0]!;
  const above = ticks.find((t) => t >= max) ?? ticks.at(-1)!;
  return ticks.filter((t) => t >= below && t <= above);
}

interface Scale {
  ticks: number[];
  /** Value → position along the axis, 0 at the first tick, `length` at the last. */
  map(v: number): number;
}

function scale(kind: ScaleKind, values: readonly number[], length: number, fromZero: boolean): Scale {
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (kind === 'log') {
    const ticks = logTicks(min, max);
    const [a, b] = [Math.log10(ticks[0]!), Math.log10(ticks.at(-1)!)];
    const span = b - a || 1;
    return { ticks, map: (v) => ((Math.log10(v) - a) / span) * length };
  }
  const ticks = linearTicks(fromZero ? Math.min(0, min) : min, max);
  const [a, b] = [ticks[0]!, ticks.at(-1)!];
  const span = b - a || 1;
  return { ticks, map: (v) => ((v - a) / span) * length };
}

function header(width: number, height: number, title: string, subtitle: string | undefined): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600" fill="#222" ${FONT}>${escapeXml(title)}</text>`,
    ...(subtitle ? [`<text x="${width / 2}" y="40" text-anchor="middle" font-size="11" fill="#555" ${FONT}>${escapeXml(subtitle)}</text>`] : []),
  ];
}

function legend(names: readonly string[], x: number, y: number): string[] {
  const out: string[] = [];
  names.forEach((name, i) => {
    const top = y + i * 18;
    out.push(`<rect x="${x}" y="${top}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>`);
    out.push(`<text x="${x + 18}" y="${top + 10}" font-size="12" fill="#222" ${FONT}>${escapeXml(name)}</text>`);
  });
  return out;
}

/** A value against a size, one line per series, with a marker (and a tooltip) per point. */
export function lineChart(spec: LineChartSpec): string {
  const points = spec.series.flatMap((s) => s.points);
  if (points.length === 0) throw new Error(`chart "${spec.title}" has no points`);
  const width = spec.width ?? 640;
  const height = spec.height ?? 380;
  // The legend sits above the plot, one line per series, so the plot keeps the chart's width.
  const titleHeight = spec.subtitle ? 56 : 40;
  const fx = spec.x.format ?? formatNumber;
  const fy = spec.y.format ?? formatNumber;
  const top = titleHeight + spec.series.length * 18 + 8;
  const plotH = height - top - 48;
  const ys = scale(spec.y.scale ?? 'linear', points.map((p) => p.y), plotH, true);
  // Room for the longest y tick label (about 6.5 px a character) and the rotated axis title.
  const m = { left: Math.max(56, Math.max(...ys.ticks.map((t) => fy(t).length)) * 6.5 + 28), right: 20, top, bottom: 48 };
  const plotW = width - m.left - m.right;
  const xs = scale(spec.x.scale ?? 'linear', points.map((p) => p.x), plotW, false);
  const X = (v: number) => m.left + xs.map(v);
  const Y = (v: number) => m.top + plotH - ys.map(v);
  const out = header(width, height, spec.title, spec.subtitle);
  for (const t of ys.ticks) {
    out.push(`<line x1="${m.left}" y1="${c(Y(t))}" x2="${m.left + plotW}" y2="${c(Y(t))}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${m.left - 6}" y="${c(Y(t) + 4)}" text-anchor="end" font-size="11" fill="#444" ${FONT}>${escapeXml(fy(t))}</text>`);
  }
  for (const t of xs.ticks) {
    out.push(`<line x1="${c(X(t))}" y1="${m.top}" x2="${c(X(t))}" y2="${m.top + plotH}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${c(X(t))}" y="${m.top + plotH + 16}" text-anchor="middle" font-size="11" fill="#444" ${FONT}>${escapeXml(fx(t))}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${m.left + plotW / 2}" y="${height - 10}" text-anchor="middle" font-size="12" fill="#222" ${FONT}>${escapeXml(spec.x.label)}</text>`);
  out.push(`<text transform="translate(14 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#222" ${FONT}>${escapeXml(spec.y.label)}</text>`);
  spec.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    if (sorted.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${sorted.map((p) => `${c(X(p.x))},${c(Y(p.y))}`).join(' ')}"/>`);
    for (const p of sorted) {
      out.push(`<circle cx="${c(X(p.x))}" cy="${c(Y(p.y))}" r="3.5" fill="${color}"><title>${escapeXml(`${s.name}: ${fx(p.x)} → ${fy(p.y)}`)}</title></circle>`);
    }
  });
  out.push(...legend(spec.series.map((s) => s.name), m.left, titleHeight + 2));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Horizontal bars: one group per category, one bar per series, the value printed at each bar's end. */
export function barChart(spec: BarChartSpec): string {
  const values = spec.values.flat().filter((v): v is number => v !== undefined);
  if (values.length === 0) throw new Error(`chart "${spec.title}" has no values`);
  const width = spec.width ?? 720;
  const bar = 14;
  const group = spec.series.length * bar + 14;
  // About 7 px per character of 12-px text, so the longest category label fits.
  const labelWidth = Math.min(360, Math.max(...spec.categories.map((cat) => cat.length)) * 7 + 16);
  const legendHeight = spec.series.length * 18 + 8;
  const m = { left: labelWidth, right: 70, top: (spec.subtitle ? 56 : 40) + legendHeight, bottom: 44 };
  const plotW = width - m.left - m.right;
  const plotH = spec.categories.length * group;
  const height = m.top + plotH + m.bottom;
  const xs = scale(spec.x.scale ?? 'linear', values, plotW, true);
  const fx = spec.x.format ?? formatNumber;
  const X = (v: number) => m.left + xs.map(v);
  const out = header(width, height, spec.title, spec.subtitle);
  out.push(...legend(spec.series, m.left, (spec.subtitle ? 56 : 40) + 2));
  for (const t of xs.ticks) {
    out.push(`<line x1="${c(X(t))}" y1="${m.top}" x2="${c(X(t))}" y2="${m.top + plotH}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${c(X(t))}" y="${m.top + plotH + 16}" text-anchor="middle" font-size="11" fill="#444" ${FONT}>${escapeXml(fx(t))}</text>`);
  }
  const base = X(xs.ticks[0]!);
  spec.categories.forEach((cat, ci) => {
    const top = m.top + ci * group + 7;
    out.push(`<text x="${m.left - 8}" y="${c(top + (spec.series.length * bar) / 2 + 4)}" text-anchor="end" font-size="12" fill="#222" ${FONT}>${escapeXml(cat)}</text>`);
    spec.series.forEach((name, si) => {
      const v = spec.values[ci]?.[si];
      if (v === undefined) return;
      const y = top + si * bar;
      const end = X(v);
      out.push(
        `<rect x="${c(base)}" y="${c(y)}" width="${c(Math.max(1, end - base))}" height="${bar - 2}" fill="${PALETTE[si % PALETTE.length]}"><title>${escapeXml(`${cat}, ${name}: ${fx(v)}`)}</title></rect>`,
      );
      out.push(`<text x="${c(end + 4)}" y="${c(y + bar - 4)}" font-size="10" fill="#333" ${FONT}>${escapeXml(fx(v))}</text>`);
    });
  });
  out.push(`<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${m.left + plotW / 2}" y="${height - 10}" text-anchor="middle" font-size="12" fill="#222" ${FONT}>${escapeXml(spec.x.label)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
