#!/usr/bin/env -S npx tsx
import { runCommand } from '../core/cli/command.ts';
import { targetConfigFromArgs } from '../core/cli/target-args.ts';
import { paint } from '../core/cli/paint.ts';
import { progressLine } from '../core/cli/progress.ts';
import { withConnection } from '../core/db/connect.ts';
import { redactedUrl } from '../core/db/url.ts';
import { EXIT } from '../core/errors.ts';
import { readMigrations } from '../core/migrations/files.ts';
import { MIGRATIONS_DIR } from '../core/paths.ts';
import { roleUrls } from '../core/report.ts';
import { backupToolsFor } from '../core/pgtools/backup-tools.ts';
import { changesToReport, describeSetup } from '../core/setup.ts';
import { smokeTest } from '../core/smoke.ts';
import { adminConnection, openTarget, setupTarget } from '../core/open-target.ts';

await runCommand(
  {
    name: 'start',
    summary: 'the main job: start (or reuse) the local PostgreSQL 17, run setup-db, prove it works, report, stay up until Ctrl-C',
    options: {
      database: { type: 'string', description: 'database name (default app; also DB_NAME)', valueName: 'NAME' },
      detach: { type: 'boolean', description: 'leave the cluster running and exit after the report (stop it with npm run db:stop)' },
      json: { type: 'boolean', description: 'print the report as one JSON document' },
    },
    details: 'Environment: LOCAL_PG_PORT (default 54317), LOCAL_PG_BIN, PGSTEWARD_HOME, DB_POOL_MAX.\nExit 1 when a smoke check fails.',
  },
  async (args) => {
    const config = targetConfigFromArgs({ ...args, values: { ...args.values, target: 'local' } });
    const progress = progressLine('start');
    progress('starting PostgreSQL');
    const target = await openTarget(config, { start: true });
    const cluster = target.cluster!;

    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      if (target.startedCluster) {
        process.stderr.write(`\n${signal}: stopping PostgreSQL cleanly…\n`);
        await cluster.stop().catch((e) => process.stderr.write(`could not stop cleanly: ${(e as Error).message}\n`));
        process.stderr.write('stopped.\n');
      } else {
        process.stderr.write(`\n${signal}: leaving the cluster running (it was already up before this run; npm run db:stop stops it)\n`);
      }
      process.exit(EXIT.ok);
    };
    if (!args.values.detach) {
      // Registered before setup, so Ctrl-C during setup also shuts the server down cleanly.
      process.on('SIGINT', () => void shutdown('SIGINT'));
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
    }

    const report = await setupTarget(target, readMigrations(MIGRATIONS_DIR), { onProgress: progress });
    progress('smoke test');
    const smoke = await withConnection(adminConnection(target), { applicationName: 'pgsteward smoke test' }, (sql) => smokeTest(sql, target.roles));
    progress('');
    const ok = smoke.every((s) => s.ok);
    const urls = roleUrls(target);
    const backups = backupToolsFor(config, report.serverVersion);

    if (args.values.json) {
      process.stdout.write(
        JSON.stringify(
          {
            ok,
            cluster: { started: target.startedCluster, dataDir: cluster.dataDir, version: report.serverVersion, url: redactedUrl(target.admin) },
            setup: { summary: describeSetup(report), changes: changesToReport(report), applied: report.migrations.applied.map((a) => a.file), alreadyApplied: report.migrations.alreadyApplied },
            smoke,
            roles: urls,
            backups: backups.status,
          },
          null,
          2,
        ) + '\n',
      );
    } else {
      const mark = (b: boolean) => (b ? paint.green('✓') : paint.red('✗'));
      process.stdout.write(
        [
          paint.bold(`PostgreSQL ${report.serverVersion} ${target.startedCluster ? 'started' : 'already running'} (local, data in ${cluster.dataDir})`),
          `setup-db: ${describeSetup(report)}`,
          ...changesToReport(report).map((l) => `  ${l}`),
          'smoke test (rolled back):',
          ...smoke.map((s) => `  ${mark(s.ok)} ${s.name}: ${s.detail}`),
          ...(backups.warning ? [paint.yellow(backups.warning)] : []),
          'connect as:',
          ...Object.entries(urls).map(([role, url]) => `  ${role.padEnd(9)} ${url}`),
          paint.dim(`passwords: ${cluster.secretsFile} (0600, never printed)`),
          '',
        ].join('\n'),
      );
    }
    if (args.values.detach || !ok) return ok ? EXIT.ok : EXIT.findings;
    process.stdout.write(target.startedCluster ? 'Running. Press Ctrl-C to stop PostgreSQL.\n' : 'Running (reused an already-started cluster). Press Ctrl-C to exit; the cluster keeps running.\n');
    // Nothing else holds the event loop open now; this timer keeps the process up until a signal.
    await new Promise(() => setInterval(() => {}, 1 << 30));
    return EXIT.ok;
  },
);
