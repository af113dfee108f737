/**
 * The arithmetic of a benchmark report. Pure, so the numbers in BENCHMARKS.md are only as
 * trustworthy as these few functions, which have their own tests.
 */

/** The median of the samples; the mean of the middle two for an even count. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error('median of no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarize(samples: readonly number[]): Summary {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), n: samples.length };
}

/** numerator / denominator; undefined when the denominator is zero or either side is not a finite number. */
export function ratio(numerator: number, denominator: number): number | undefined {
  if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator === 0) return undefined;
  return numerator / denominator;
}

export interface Target {
  op: '<=' | '>=';
  value: number;
}

export type Verdict = 'confirmed' | 'refuted' | 'no target' | 'not measured';

/** Whether a measured ratio meets its target. */
export function verdict(value: number | undefined, target: Target | undefined): Verdict {
  if (value === undefined) return 'not measured';
  if (!target) return 'no target';
  return (target.op === '<=' ? value <= target.value : value >= target.value) ? 'confirmed' : 'refuted';
}

/** Three significant digits, enough for a ratio taken on a noisy machine; big numbers keep their integer part. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

/** 10.0 MiB style sizes for byte counts. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** A duration in milliseconds for humans: 0.84 ms, 12.3 ms, 4.21 s. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${formatNumber(ms / 1000)} s`;
  return `${formatNumber(ms)} ms`;
}

/** "0.74×" with the verdict's sign for the eye. */
export function formatRatio(value: number | undefined): string {
  return value === undefined ? 'n/a' : `${formatNumber(value)}×`;
}

/**
 * Whether a ratio lies so close to its target (within `margin`, 10% by default) that the
 * run-to-run noise of a shared machine could flip the verdict.
 */
export function borderline(value: number | undefined, target: Target | undefined, margin = 0.1): boolean {
  // Exactly on target is a deterministic result (equal query counts), not noise.
  if (value === undefined || !target || target.value === 0 || value === target.value) return false;
  return Math.abs(value / target.value - 1) < margin;
}
