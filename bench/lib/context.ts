import type { BenchServer } from './servers.ts';
import type { BenchmarkId, BenchmarkRecorder } from './results.ts';
import type { ScaleConfig } from './scale.ts';

/** What every benchmark gets: its sizes, the bench's own servers (started on first use), a progress log. */
export interface BenchContext {
  scale: ScaleConfig;
  /** The bench's private state folder: clusters, dumps, scratch files. Removed after the run. */
  stateDir: string;
  /** The embedded PostgreSQL 17, the version the design record names. */
  pg17(): Promise<BenchServer>;
  log(message: string): void;
}

export interface Benchmark {
  id: BenchmarkId;
  title: string;
  question: string;
  run(ctx: BenchContext, rec: BenchmarkRecorder): Promise<void>;
}

/** Thrown when a benchmark cannot run here (a module or tool is missing); reported, not a crash. */
export class Unavailable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Unavailable';
  }
}
