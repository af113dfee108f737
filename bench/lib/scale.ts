import { UserError } from '../../core/errors.ts';

/**
 * Sizes per scale. `full` is what the issue asks for and what BENCHMARKS.md reports;
 * `small` is a quick look (under two minutes); `tiny` only proves the code runs (the test).
 */
export interface ScaleConfig {
  name: ScaleName;
  /** Timed repetitions of heavy steps (bulk inserts, dumps, restores, setups). At least 5. */
  reps: number;
  /** Timed repetitions of quick queries, where more samples cost little. */
  queryReps: number;
  uuid: {
    rows: number;
    batch: number;
    lookups: number;
    generated: number;
    appRows: number;
    appWorkers: number;
    appBatch: number;
  };
  search: { phrases: number; vocabulary: number };
  /** `tables`: every schema size the checks run on; the time target compares fewTables and manyTables (both among them). */
  checks: { fewTables: number; manyTables: number; tables: number[] };
  backup: { targetMiB: number };
}

export const SCALE_NAMES = ['tiny', 'small', 'full'] as const;
export type ScaleName = (typeof SCALE_NAMES)[number];

export const SCALES: Record<ScaleName, ScaleConfig> = {
  tiny: {
    name: 'tiny',
    reps: 5,
    queryReps: 5,
    uuid: { rows: 2_000, batch: 500, lookups: 200, generated: 5_000, appRows: 400, appWorkers: 2, appBatch: 10 },
    search: { phrases: 3_000, vocabulary: 50_000 },
    checks: { fewTables: 2, manyTables: 20, tables: [2, 20] },
    backup: { targetMiB: 1 },
  },
  small: {
    name: 'small',
    reps: 5,
    queryReps: 7,
    uuid: { rows: 100_000, batch: 10_000, lookups: 10_000, generated: 200_000, appRows: 10_000, appWorkers: 4, appBatch: 10 },
    search: { phrases: 200_000, vocabulary: 50_000 },
    checks: { fewTables: 10, manyTables: 200, tables: [10, 100, 200] },
    backup: { targetMiB: 10 },
  },
  full: {
    name: 'full',
    reps: 5,
    queryReps: 21,
    uuid: { rows: 1_000_000, batch: 10_000, lookups: 10_000, generated: 1_000_000, appRows: 200_000, appWorkers: 4, appBatch: 10 },
    search: { phrases: 1_000_000, vocabulary: 50_000 },
    checks: { fewTables: 10, manyTables: 1_000, tables: [10, 100, 1_000, 3_000] },
    backup: { targetMiB: 500 },
  },
};

export function parseScale(raw: string | undefined): ScaleConfig {
  const name = raw ?? 'small';
  if (!(SCALE_NAMES as readonly string[]).includes(name)) {
    throw new UserError(`unknown scale "${name.slice(0, 20)}"`, `use --scale ${SCALE_NAMES.join('|')}`);
  }
  return SCALES[name as ScaleName];
}
