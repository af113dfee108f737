import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { scrub } from '../secrets.ts';

export type RunOutcome = 'ok' | 'findings' | 'failed' | 'skipped';

/** One line of the JSON-lines run history. */
export interface RunRecord {
  job: string;
  target: string;
  database: string;
  trigger: 'scheduled' | 'manual';
  outcome: RunOutcome;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** One line for people: what was done, or why it failed or was skipped. */
  summary: string;
  pid: number;
  details?: unknown;
}

/** The history is rotated once it passes this size: one previous file (`.1`) is kept. */
export const HISTORY_MAX_BYTES = 10 * 1024 * 1024;

export function appendHistory(file: string, record: RunRecord): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (existsSync(file) && statSync(file).size > HISTORY_MAX_BYTES) renameSync(file, `${file}.1`);
  appendFileSync(file, scrub(JSON.stringify(record)) + '\n', { mode: 0o600 });
}

/** Every readable record, oldest first; a torn or foreign line is skipped, not fatal. */
export function readHistory(file: string): RunRecord[] {
  if (!existsSync(file)) return [];
  const out: RunRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as RunRecord;
      if (typeof r.job === 'string' && typeof r.outcome === 'string' && typeof r.startedAt === 'string') out.push(r);
    } catch {
      // a line cut short by a crash
    }
  }
  return out;
}

/** The last run (not skip) of each job, for one target and database. Pure. */
export function lastRuns(records: readonly RunRecord[], target: string, database: string): Map<string, RunRecord> {
  const out = new Map<string, RunRecord>();
  for (const r of records) {
    if (r.target === target && r.database === database && r.outcome !== 'skipped') out.set(r.job, r);
  }
  return out;
}
