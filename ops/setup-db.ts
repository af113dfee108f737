#!/usr/bin/env -S npx tsx
import { runCommand, TARGET_OPTIONS } from '../core/cli/command.ts';
import { targetConfigFromArgs } from '../core/cli/target-args.ts';
import { readMigrations } from '../core/migrations/files.ts';
import { CONFIG_OPTION } from '../core/cli/ops-context.ts';
import { ignoreMissingFromArgs, lockWaitTimeoutFromArgs, MIGRATION_OPTIONS, migrationsDirFromArgs, projectConfigFromArgs, targetDefaultsOf } from '../core/cli/project-args.ts';
import { changesToReport, describeSetup } from '../core/setup.ts';
import { openTarget, setupTarget } from '../core/open-target.ts';
import { EXIT } from '../core/errors.ts';
import { progressLine } from '../core/cli/progress.ts';

await runCommand(
  {
    name: 'setup-db',
    summary: 'create the least-privilege roles and apply pending migrations (safe, idempotent)',
    options: {
      ...TARGET_OPTIONS,
      ...CONFIG_OPTION,
      ...MIGRATION_OPTIONS,
      'lock-wait-timeout': { type: 'string', description: 'seconds to wait for the migration lock before giving up, naming its holder (default 60)', valueName: 'SECONDS' },
    },
    details: [
      'Starts the local cluster if needed. Converges the five roles to the model (memberships, attributes,',
      'expiry, settings, privileges on the database, its schemas and every object, default privileges),',
      'then applies pending migrations and converges again. Prints one line per change; on a database that',
      'is already right it prints only the summary and sends no DDL.',
      'The URL path names the application database (postgres://…/shop acts on shop), as sqlx reads it.',
    ].join('\n'),
  },
  async (args) => {
    // The config file's database, migrations folder and pool budget sit below every flag and variable.
    const project = projectConfigFromArgs(args);
    const migrations = readMigrations(migrationsDirFromArgs(args, project));
    const plan = { ignoreMissing: ignoreMissingFromArgs(args, project), lockWaitTimeoutMs: lockWaitTimeoutFromArgs(args) };
    const config = targetConfigFromArgs(args, process.env, targetDefaultsOf(project));
    const target = await openTarget(config, { start: true });
    const progress = progressLine('setup-db');
    const report = await setupTarget(target, migrations, { onProgress: progress, ...plan });
    progress('');
    if (args.values.json) {
      process.stdout.write(JSON.stringify({ target: config.kind, ...report, migrations: { applied: report.migrations.applied.map((a) => ({ ...a, version: String(a.version), nanos: String(a.nanos) })), alreadyApplied: report.migrations.alreadyApplied } }, null, 2) + '\n');
    } else {
      for (const line of changesToReport(report)) process.stdout.write(`${line}\n`);
      process.stdout.write(`setup-db (${config.kind}/${config.database}): ${describeSetup(report)}\n`);
    }
    return EXIT.ok;
  },
);
