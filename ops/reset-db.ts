#!/usr/bin/env -S npx tsx
import { question } from 'zx';
import { runCommand, TARGET_OPTIONS } from '../core/cli/command.ts';
import { targetConfigFromArgs } from '../core/cli/target-args.ts';
import { paint } from '../core/cli/paint.ts';
import { EXIT, UserError } from '../core/errors.ts';
import { readMigrations } from '../core/migrations/files.ts';
import { MIGRATIONS_DIR } from '../core/paths.ts';
import { describeSetup, dropSchema } from '../core/setup.ts';
import { openTarget, setupTarget } from '../core/open-target.ts';
import { takeSafetyBackup } from '../core/backup/safety.ts';
import { copyDatabase } from '../core/db/copy.ts';

await runCommand(
  {
    name: 'reset-db',
    summary: 'DESTRUCTIVE: back up, drop and rebuild the schema, then run setup-db',
    options: {
      ...TARGET_OPTIONS,
      yes: { type: 'boolean', description: 'skip typing the database name: local target only, and only when not run from a terminal' },
    },
    details: [
      'Refuses the prod target outright. Asks you to type the database name.',
      'Takes a safety backup first (pg_dump when a compatible one exists; otherwise a server-side',
      'copy of the database, CREATE DATABASE … TEMPLATE, named <db>_bak_<stamp>).',
    ].join('\n'),
  },
  async (args) => {
    const config = targetConfigFromArgs(args);
    if (config.kind === 'prod') {
      throw new UserError('reset-db refuses the prod target', 'restore a backup with restore-db instead; prod is never reset');
    }
    const interactive = Boolean(process.stdin.isTTY);
    if (args.values.yes && config.kind !== 'local') {
      throw new UserError(`--yes is accepted only for the local target, not ${config.kind}`, 'run reset-db in a terminal and type the database name');
    }
    if (interactive) {
      const typed = (await question(paint.yellow(`This drops every table in ${config.kind}/${config.database}. Type the database name to confirm: `))).trim();
      if (typed !== config.database) {
        throw new UserError('confirmation did not match the database name; nothing was changed', `type ${config.database} exactly to confirm`);
      }
    } else if (!args.values.yes) {
      throw new UserError('reset-db needs confirmation and no terminal is attached; nothing was changed', 'run it in a terminal, or pass --yes for the local target');
    }

    const target = await openTarget(config, { start: config.kind === 'local' });
    const backup = await takeSafetyBackup(target, 'pre-reset');
    let wayBack: string;
    if (backup.ok) {
      wayBack = `safety backup: ${backup.location}`;
    } else {
      // No usable pg_dump: keep a way back on the server itself.
      const copy = await copyDatabase(target.admin, config.database, target.roles);
      wayBack = `no pg_dump backup was taken (${backup.reason}); kept a server-side copy as database ${copy} (drop it when no longer needed)`;
    }
    process.stderr.write(`${wayBack}\n`);

    await dropSchema(target.admin, config.database);
    const report = await setupTarget(target, readMigrations(MIGRATIONS_DIR));
    if (args.values.json) {
      process.stdout.write(JSON.stringify({ target: config.kind, database: config.database, backup: backup.ok ? backup.location : null, wayBack, summary: describeSetup(report) }, null, 2) + '\n');
    } else {
      process.stdout.write(`reset-db (${config.kind}/${config.database}): schema rebuilt; ${describeSetup(report)}\n`);
    }
    return EXIT.ok;
  },
);
