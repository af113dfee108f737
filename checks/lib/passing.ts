import type { CheckOutcome } from '../types.ts';

/**
 * How checks report subjects that passed. Listing every one costs a catalog row each, and
 * on a schema of thousands of tables that is most of a run's time; so, unless asked to list
 * (`--verbose`, JUnit), a check counts them in SQL and reports one line per group.
 */

/** `1 table`, `1,009 tables`. */
export function counted(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? singular : plural}`;
}

/** A group of passing subjects that were counted, not listed. */
export interface PassingGroup {
  count: number;
  /** The line for the whole group, e.g. `n => `${counted(n, 'table')}: composite primary key``. */
  line(count: number): string;
}

/**
 * The passed lines of a check: its listed lines when it listed every subject (`verbose`),
 * otherwise one line per non-empty group; `passedCount` is the same either way.
 */
export function passingLines(verbose: boolean, listed: readonly string[], groups: readonly PassingGroup[]): { passed: string[]; passedCount: number } {
  const passedCount = groups.reduce((n, g) => n + g.count, 0);
  if (verbose) return { passed: [...listed], passedCount };
  return { passed: groups.filter((g) => g.count > 0).map((g) => g.line(g.count)), passedCount };
}

/** One outcome from a check's parts (catalog, probe): lines and findings in order, counts added. */
export function mergeOutcomes(...parts: ReadonlyArray<{ passed: string[]; passedCount?: number; findings: CheckOutcome['findings'] }>): CheckOutcome {
  return {
    passed: parts.flatMap((p) => p.passed),
    passedCount: parts.reduce((n, p) => n + (p.passedCount ?? p.passed.length), 0),
    findings: parts.flatMap((p) => p.findings),
  };
}
