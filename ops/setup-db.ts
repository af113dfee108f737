#!/usr/bin/env -S npx tsx
import { runCommand, TARGET_OPTIONS } from '../core/cli/command.ts';
import { targetConfigFromArgs } from '../core/cli/target-args.ts';
import { readMigrations } from '../core/migrations/files.ts';
import { MIGRATIONS_DIR } from '../core/paths.ts';
import { describeSetup } from '../core/setup.ts';
import { openTarget, setupTarget } from '../core/open-target.ts';
import { EXIT } from '../core/errors.ts';
import { progressLine } from '../core/cli/progress.ts';

await runCommand(
  {
    name: 'setup-db',
    summary: 'create the least-privilege roles and apply pending migrations (safe, idempotent)',
    options: {
      ...TARGET_OPTIONS,
      migrations: { type: 'string', description: 'migrations folder (default ./migrations)', valueName: 'DIR' },
    },
    details: 'Starts the local cluster if needed. Roles come first, then migrations, then grants.',
  },
  async (args) => {
    const migrations = readMigrations((args.values.migrations as string | undefined) ?? MIGRATIONS_DIR);
    const config = targetConfigFromArgs(args);
    const target = await openTarget(config, { start: true });
    const progress = progressLine('setup-db');
    const report = await setupTarget(target, migrations, progress);
    progress('');
    if (args.values.json) {
      process.stdout.write(JSON.stringify({ target: config.kind, ...report, migrations: { applied: report.migrations.applied.map((a) => ({ ...a, version: String(a.version), nanos: String(a.nanos) })), alreadyApplied: report.migrations.alreadyApplied } }, null, 2) + '\n');
    } else {
      process.stdout.write(`setup-db (${config.kind}/${config.database}): ${describeSetup(report)}\n`);
    }
    return EXIT.ok;
  },
);
