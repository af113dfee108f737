#!/usr/bin/env -S npx tsx
import { runChecksWith } from '../checks/suite.ts';
import { projectConfigFromArgs } from '../core/cli/project-args.ts';
import { runCommand, TARGET_OPTIONS } from '../core/cli/command.ts';
import { paint } from '../core/cli/paint.ts';
import { CONFIG_OPTION, opsContext } from '../core/cli/ops-context.ts';
import { printJson } from '../core/cli/json.ts';
import { JOB_NAMES, type JobName } from '../core/config/ops-config.ts';
import { buildJobs } from '../core/cron/jobs.ts';
import { lastRuns, readHistory, type RunRecord } from '../core/cron/history.ts';
import { publishRunMetric } from '../core/cron/metrics-publish.ts';
import { Scheduler } from '../core/cron/runner.ts';
import { nextRun, validateSchedule } from '../core/cron/schedule.ts';
import { EXIT, UserError } from '../core/errors.ts';

await runCommand(
  {
    name: 'cron',
    summary: 'run the backup, verify and checks jobs on their schedules (foreground; stop with SIGTERM/SIGINT)',
    positionals: '[status]',
    options: {
      ...TARGET_OPTIONS,
      ...CONFIG_OPTION,
      once: { type: 'string', description: `run one job now and exit with its result: ${JOB_NAMES.join(', ')}`, valueName: 'JOB' },
    },
    details: [
      'Jobs: backup (then retention), daily 03:15; verify (restore test of the newest backup), Sundays 04:45;',
      'checks, hourly at :05. Schedules, time zone and history file come from the config (cron.*).',
      'A job never overlaps itself (an extra trigger is skipped and logged); a failing job never stops the',
      'scheduler. SIGTERM/SIGINT stop scheduling and wait for a running job, then exit 0 (a second Ctrl-C',
      'exits at once). Each run is a line in the JSON-lines history; `cron status` shows last and next runs.',
      'Exit codes for --once: 0 ok, 1 findings, 2 failed or could not run.',
      'Examples:',
      '  npm run cron',
      '  npm run cron -- status',
      '  npm run cron -- --once backup --target prod',
    ].join('\n'),
  },
  async (args) => {
    const ctx = opsContext('cron', args);
    const { config, ops, log } = ctx;
    const [sub, ...extra] = args.positionals;
    if (extra.length || (sub !== undefined && sub !== 'status')) throw new UserError(`unknown cron subcommand "${String(sub ?? extra[0]).slice(0, 20)}"`, 'use cron, cron status or cron --once JOB');
    const once = args.values.once as string | undefined;
    if (once !== undefined && !(JOB_NAMES as readonly string[]).includes(once)) throw new UserError(`unknown job "${once.slice(0, 20)}"`, `use --once ${JOB_NAMES.join('|')}`);
    if (once && sub) throw new UserError('status and --once exclude each other', 'run them separately');

    if (sub === 'status') {
      // A schedule the scheduler would refuse is refused here too: status must not report a next run that never comes.
      for (const job of JOB_NAMES) if (ops.cron.jobs[job].enabled) validateSchedule(`cron.jobs.${job}.schedule`, ops.cron.jobs[job].schedule);
      const last = lastRuns(readHistory(ops.cron.historyFile), config.kind, config.database);
      const rows = JOB_NAMES.map((job) => {
        const j = ops.cron.jobs[job];
        const next = j.enabled ? (nextRun(j.schedule, ops.cron.timezone)?.toISOString() ?? null) : null;
        const l = last.get(job);
        return { job, schedule: j.schedule, enabled: j.enabled, next, last: l ? { startedAt: l.startedAt, outcome: l.outcome, durationMs: l.durationMs, summary: l.summary } : null };
      });
      if (args.values.json) {
        printJson({ target: config.kind, database: config.database, timezone: ops.cron.timezone, historyFile: ops.cron.historyFile, jobs: rows });
      } else {
        const w = process.stdout.write.bind(process.stdout);
        w(`cron status (${config.kind}/${config.database}, times in UTC, schedules in ${ops.cron.timezone}; history ${ops.cron.historyFile})\n`);
        for (const r of rows) {
          const outcome = r.last ? (r.last.outcome === 'ok' ? paint.green('ok') : r.last.outcome === 'findings' ? paint.yellow('findings') : paint.red(r.last.outcome)) : '-';
          w(`  ${r.job.padEnd(7)} ${r.enabled ? r.schedule.padEnd(14) : 'disabled'.padEnd(14)} last: ${r.last ? `${r.last.startedAt} ${outcome} ${r.last.summary}` : 'never'}\n`);
          w(`  ${''.padEnd(7)} ${''.padEnd(14)} next: ${r.next ?? '-'}\n`);
        }
      }
      return EXIT.ok;
    }

    const jobs = buildJobs({ config, ops, checks: runChecksWith(projectConfigFromArgs(args)), logger: log });
    // With PGSTEWARD_METRICS=cloudwatch (the prod tasks), each finished run publishes the data point its alarm reads.
    const onFinished = (r: RunRecord) => publishRunMetric(r, { logger: log });
    if (once) {
      // --once ignores the schedules: only the job itself is needed.
      const scheduler = new Scheduler({ jobs: jobs.map((j) => ({ ...j, enabled: false })), timezone: ops.cron.timezone, historyFile: ops.cron.historyFile, target: config.kind, database: config.database, logger: log, onFinished });
      const wait = (sig: NodeJS.Signals) => log.warn({ signal: sig, job: once }, 'waiting for the running job to finish before exiting');
      process.on('SIGTERM', wait);
      process.on('SIGINT', wait);
      const r = await scheduler.trigger(once as JobName, 'manual');
      if (args.values.json) printJson(r);
      else process.stdout.write(`cron --once ${once}: ${r.outcome === 'ok' ? paint.green('ok') : r.outcome === 'findings' ? paint.yellow('findings') : paint.red(r.outcome)} ${r.summary}\n`);
      if (r.outcome === 'ok') return EXIT.ok;
      if (r.outcome === 'findings') return EXIT.findings;
      if (r.outcome === 'skipped') throw new UserError(`job ${once} was not run: ${r.summary}`, 'wait for the running one to finish');
      return EXIT.error;
    }

    // Invalid schedules are refused here, before anything runs.
    const scheduler = new Scheduler({ jobs, timezone: ops.cron.timezone, historyFile: ops.cron.historyFile, target: config.kind, database: config.database, logger: log, onFinished });
    if (!jobs.some((j) => j.enabled)) throw new UserError('every cron job is disabled', 'enable at least one in cron.jobs of the config');
    await new Promise<void>((resolve) => {
      let stopping = false;
      const onSignal = (sig: NodeJS.Signals) => {
        if (stopping) {
          if (sig === 'SIGINT') {
            log.warn({ signal: sig }, 'second interrupt: exiting without waiting');
            process.exit(130);
          }
          log.warn({ signal: sig, running: scheduler.runningJobs() }, 'already stopping; still waiting for the running job');
          return;
        }
        stopping = true;
        log.info({ signal: sig, running: scheduler.runningJobs() }, 'stopping: no new runs; waiting for running jobs');
        void scheduler.stop().then(() => {
          log.info('scheduler stopped');
          resolve();
        });
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      scheduler.start();
    });
    return EXIT.ok;
  },
);
