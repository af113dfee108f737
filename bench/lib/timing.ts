import { performance } from 'node:perf_hooks';

/** Wall-clock milliseconds of one call. */
export async function timeOnce(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export interface AlternateOptions<K extends string> {
  /** Untimed runs of every step first, so caches and prepared statements are warm for both sides alike. */
  warmup?: number;
  /** Untimed work before each timed step (truncate, checkpoint). */
  before?: (key: K, rep: number) => Promise<void>;
  /** Untimed work after each timed step (read sizes, WAL counters). */
  after?: (key: K, rep: number) => Promise<void>;
}

/**
 * Times every step `reps` times, alternating their order each round (A B, B A, …) so that a
 * machine that slows down or warms up during the run does not favour one side.
 */
export async function alternate<K extends string>(reps: number, steps: Record<K, () => Promise<unknown>>, opts: AlternateOptions<K> = {}): Promise<Record<K, number[]>> {
  const keys = Object.keys(steps) as K[];
  const out = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let w = 0; w < (opts.warmup ?? 0); w++) {
    for (const k of keys) {
      await opts.before?.(k, -1 - w);
      await steps[k]();
      await opts.after?.(k, -1 - w);
    }
  }
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? keys : [...keys].reverse();
    for (const k of order) {
      await opts.before?.(k, rep);
      out[k].push(await timeOnce(steps[k]));
      await opts.after?.(k, rep);
    }
  }
  return out;
}
