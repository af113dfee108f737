import path from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import { errorLine } from '../errors.ts';
import type { Logger } from '../log.ts';
import { scrub } from '../secrets.ts';
import { appendHistory, type RunOutcome, type RunRecord } from './history.ts';
import { acquireJobLock } from './lock.ts';
import { nextRun, validateSchedule } from './schedule.ts';

/** What a job reports when it finishes without throwing. A thrown error is the `failed` outcome. */
export interface JobResult {
  outcome: 'ok' | 'findings';
  summary: string;
  details?: unknown;
}

export interface JobSpec {
  name: string;
  schedule: string;
  enabled: boolean;
  run: () => Promise<JobResult>;
}

export interface SchedulerOptions {
  jobs: readonly JobSpec[];
  timezone: string;
  historyFile: string;
  /** Recorded with every run, so one history file can serve several targets. */
  target: string;
  database: string;
  logger: Logger;
  /**
   * Called with every record once it is written (the job metrics, see metrics-publish.ts),
   * before `trigger` resolves, so `--once` exits only after it. A rejection is logged; it
   * never changes the record.
   */
  onFinished?: (record: RunRecord) => Promise<unknown>;
}

/**
 * Runs jobs on their cron schedules. A job never overlaps itself (in this process or, through
 * a lock file, in another): the extra trigger is skipped and logged. A failing job is logged
 * and recorded, and the scheduler carries on. `stop` stops scheduling and waits for running
 * jobs to finish.
 */
export class Scheduler {
  private readonly jobs: Map<string, JobSpec>;
  private readonly tasks: ScheduledTask[] = [];
  private readonly running = new Map<string, Promise<RunRecord>>();
  private stopping = false;

  constructor(private readonly opts: SchedulerOptions) {
    for (const j of opts.jobs) if (j.enabled) validateSchedule(`cron.jobs.${j.name}.schedule`, j.schedule);
    this.jobs = new Map(opts.jobs.map((j) => [j.name, j]));
  }

  /** Schedules every enabled job. */
  start(): void {
    const log = this.opts.logger;
    cron.setLogger({
      info: (m) => log.debug({ source: 'node-cron' }, m),
      warn: (m) => log.warn({ source: 'node-cron' }, m),
      error: (m) => log.error({ source: 'node-cron' }, typeof m === 'string' ? m : m.message),
      debug: (m) => log.debug({ source: 'node-cron' }, typeof m === 'string' ? m : m.message),
    });
    for (const job of this.jobs.values()) {
      if (!job.enabled) continue;
      // Fire and forget: `trigger` never rejects, and node-cron must not wait on or time out a long job.
      const task = cron.schedule(job.schedule, () => void this.trigger(job.name, 'scheduled'), { timezone: this.opts.timezone, name: job.name });
      this.tasks.push(task);
    }
    log.info({ jobs: this.status().map((s) => ({ job: s.job, schedule: s.schedule, next: s.next })), timezone: this.opts.timezone }, 'scheduler started');
  }

  status(): Array<{ job: string; schedule: string; enabled: boolean; running: boolean; next: string | null }> {
    return [...this.jobs.values()].map((j) => ({
      job: j.name,
      schedule: j.schedule,
      enabled: j.enabled,
      running: this.running.has(j.name),
      next: j.enabled ? (nextRun(j.schedule, this.opts.timezone)?.toISOString() ?? null) : null,
    }));
  }

  runningJobs(): string[] {
    return [...this.running.keys()];
  }

  private async record(job: string, trigger: RunRecord['trigger'], outcome: RunOutcome, started: Date, summary: string, details?: unknown): Promise<RunRecord> {
    const finished = new Date();
    const r: RunRecord = {
      job,
      target: this.opts.target,
      database: this.opts.database,
      trigger,
      outcome,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      summary: scrub(summary),
      pid: process.pid,
      ...(details === undefined ? {} : { details }),
    };
    try {
      appendHistory(this.opts.historyFile, r);
    } catch (e) {
      this.opts.logger.error({ err: e, historyFile: this.opts.historyFile }, 'could not write the run history');
    }
    if (this.opts.onFinished) {
      try {
        await this.opts.onFinished(r);
      } catch (e) {
        this.opts.logger.error({ job, outcome }, `after-run hook failed (the outcome stands): ${scrub(errorLine(e))}`);
      }
    }
    return r;
  }

  private lockFile(job: string): string {
    return path.join(path.dirname(this.opts.historyFile), 'locks', `${this.opts.target}-${this.opts.database}-${job}.lock`);
  }

  /** Runs a job now unless it is running already. Never rejects: every outcome is a record. */
  async trigger(name: string, trigger: RunRecord['trigger'] = 'manual'): Promise<RunRecord> {
    const job = this.jobs.get(name);
    const log = this.opts.logger.child({ job: name });
    const started = new Date();
    if (!job) return this.record(name, trigger, 'failed', started, `unknown job ${name}`);
    if (this.stopping) {
      log.info('trigger ignored: the scheduler is stopping');
      return this.record(name, trigger, 'skipped', started, 'the scheduler is stopping');
    }
    const inFlight = this.running.get(name);
    if (inFlight) {
      log.warn({ trigger }, 'skipped: the previous run is still going');
      return this.record(name, trigger, 'skipped', started, 'the previous run is still going');
    }
    let lock: ReturnType<typeof acquireJobLock>;
    try {
      lock = acquireJobLock(this.lockFile(name));
    } catch (e) {
      // An unwritable state folder must fail this run, not the scheduler: trigger never rejects.
      const why = `could not take the job lock ${this.lockFile(name)}: ${(e as NodeJS.ErrnoException).code ?? errorLine(e)}`;
      log.error({ trigger }, `job failed: ${why}`);
      return this.record(name, trigger, 'failed', started, why);
    }
    if ('heldBy' in lock) {
      log.warn({ trigger, heldBy: lock.heldBy }, 'skipped: another process is running this job');
      return this.record(name, trigger, 'skipped', started, `another process (pid ${lock.heldBy}) is running this job`);
    }
    const run = (async (): Promise<RunRecord> => {
      log.info({ trigger }, 'job started');
      try {
        const result = await job.run();
        log[result.outcome === 'ok' ? 'info' : 'warn']({ outcome: result.outcome, durationMs: Date.now() - started.getTime() }, `job finished: ${scrub(result.summary)}`);
        return this.record(name, trigger, result.outcome, started, result.summary, result.details);
      } catch (e) {
        const why = errorLine(e);
        log.error({ outcome: 'failed', durationMs: Date.now() - started.getTime() }, `job failed: ${scrub(why)}`);
        return this.record(name, trigger, 'failed', started, why);
      } finally {
        lock.release();
        this.running.delete(name);
      }
    })();
    this.running.set(name, run);
    return run;
  }

  /** Stops scheduling and waits for the running jobs; resolves once none is left. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.tasks) await t.destroy();
    this.tasks.length = 0;
    await Promise.allSettled([...this.running.values()]);
  }
}
