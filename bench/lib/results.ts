import { UserError } from '../../core/errors.ts';
import { median, ratio, summarize, verdict, type Target, type Verdict } from './stats.ts';

/**
 * The shape of bench/results.json, and a small builder each benchmark fills in.
 * Ratios always point at the measurements they were computed from, so every number in
 * BENCHMARKS.md can be traced to its raw samples.
 */

export type Unit = 'ms' | 'bytes' | 'rows/s' | 'queries' | 'rows';

export interface Measurement {
  key: string;
  label: string;
  unit: Unit;
  samples: number[];
  median: number;
  min: number;
  max: number;
  n: number;
}

export interface RatioResult {
  key: string;
  label: string;
  /** median(numerator) / median(denominator); absent when the denominator was zero. */
  value: number | undefined;
  numerator: string;
  denominator: string;
  target?: Target;
  verdict: Verdict;
  /** The ratio the benchmark is about; printed last and shown in the summary. */
  headline: boolean;
}

/** Schema drift is measured by the checks benchmark, on the same schemas (its former id `drift` is gone). */
export type BenchmarkId = 'uuid' | 'search' | 'checks' | 'backup' | 'migrations';
export const BENCHMARK_IDS: readonly BenchmarkId[] = ['uuid', 'search', 'migrations', 'checks', 'backup'];

export interface BenchmarkResult {
  id: BenchmarkId;
  title: string;
  /** The claim under test, in words. */
  question: string;
  status: 'ok' | 'unavailable' | 'failed';
  /** Why a benchmark is unavailable or failed. */
  reason?: string;
  server?: { version: string; binDir: string };
  /** Sizes that make the numbers comparable: row counts, table counts, database size. */
  params: Record<string, number | string>;
  measurements: Measurement[];
  ratios: RatioResult[];
  /** What the numbers mean, including where a target was refuted and why. */
  notes: string[];
  durationMs: number;
}

export interface RunResults {
  tool: 'pgsteward bench';
  scale: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  machine: { cpus: number; memoryGiB: number; node: string; platform: string };
  benchmarks: BenchmarkResult[];
}

export class BenchmarkRecorder {
  readonly result: BenchmarkResult;

  constructor(id: BenchmarkId, title: string, question: string) {
    this.result = { id, title, question, status: 'ok', params: {}, measurements: [], ratios: [], notes: [], durationMs: 0 };
  }

  server(version: string, binDir: string): this {
    this.result.server = { version, binDir };
    return this;
  }

  param(name: string, value: number | string): this {
    this.result.params[name] = value;
    return this;
  }

  measure(key: string, label: string, unit: Unit, samples: readonly number[]): Measurement {
    if (this.result.measurements.some((m) => m.key === key)) throw new Error(`measurement ${key} recorded twice`);
    const m: Measurement = { key, label, unit, samples: [...samples], ...summarize(samples) };
    this.result.measurements.push(m);
    return m;
  }

  get(key: string): Measurement {
    const m = this.result.measurements.find((x) => x.key === key);
    if (!m) throw new Error(`no measurement ${key}`);
    return m;
  }

  ratio(key: string, label: string, numerator: string, denominator: string, opts: { target?: Target; headline?: boolean } = {}): RatioResult {
    const value = ratio(median(this.get(numerator).samples), median(this.get(denominator).samples));
    const r: RatioResult = {
      key,
      label,
      value,
      numerator,
      denominator,
      ...(opts.target ? { target: opts.target } : {}),
      verdict: verdict(value, opts.target),
      headline: Boolean(opts.headline),
    };
    this.result.ratios.push(r);
    return r;
  }

  note(text: string): this {
    this.result.notes.push(text);
    return this;
  }
}

/** The ratios in print order: the headline last, as the issue asks. */
export function ratiosForPrint(b: BenchmarkResult): RatioResult[] {
  return [...b.ratios.filter((r) => !r.headline), ...b.ratios.filter((r) => r.headline)];
}

/** Reads a results file back, refusing anything that is not one (a report is never rendered from half a file). */
export function parseResults(text: string, where: string): RunResults {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UserError(`${where} is not valid JSON`, 'run the benchmarks again to rewrite it');
  }
  const r = doc as Partial<RunResults> | null;
  const ok =
    r !== null &&
    typeof r === 'object' &&
    r.tool === 'pgsteward bench' &&
    typeof r.scale === 'string' &&
    typeof r.startedAt === 'string' &&
    typeof r.machine === 'object' &&
    Array.isArray(r.benchmarks) &&
    r.benchmarks.every((b) => b && typeof b.id === 'string' && Array.isArray(b.measurements) && Array.isArray(b.ratios) && Array.isArray(b.notes));
  if (!ok) throw new UserError(`${where} is not a pgsteward bench results file`, 'pass the results.json a bench run wrote');
  return r as RunResults;
}
