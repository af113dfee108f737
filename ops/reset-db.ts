#!/usr/bin/env -S npx tsx
import { describeWayBack, keepWayBack } from '../core/backup/index.ts';
import { runCommand, TARGET_OPTIONS } from '../core/cli/command.ts';
import { printJson } from '../core/cli/json.ts';
import { CONFIG_OPTION, opsContext } from '../core/cli/ops-context.ts';
import { paint } from '../core/cli/paint.ts';
import { ask } from '../core/cli/prompt.ts';
import { dropSchema } from '../core/db/databases.ts';
import { EXIT, UserError } from '../core/errors.ts';
import { readMigrations } from '../core/migrations/files.ts';
import { MIGRATIONS_DIR } from '../core/paths.ts';
import { describeSetup } from '../core/setup.ts';
import { openTarget, setupTarget } from '../core/open-target.ts';

await runCommand(
  {
    name: 'reset-db',
    summary: 'DESTRUCTIVE: keep a way back, drop and rebuild the schema, then run setup-db',
    options: {
      ...TARGET_OPTIONS,
      ...CONFIG_OPTION,
      yes: { type: 'boolean', description: 'skip typing the database name: local target only, and only when not run from a terminal' },
    },
    details: [
      'Refuses the prod target outright. Asks you to type the database name (Ctrl-C cancels, exit 130).',
      'Keeps a way back first: a pg_dump safety backup into the backup storage when a pg_dump at least as new',
      'as the server exists, otherwise a server-side copy of the database (CREATE DATABASE … TEMPLATE, named',
      '<db>_bak_<stamp>); when neither can be made it stops with nothing changed.',
    ].join('\n'),
  },
  async (args) => {
    const { config, ops, log } = opsContext('reset-db', args);
    if (config.kind === 'prod') {
      throw new UserError('reset-db refuses the prod target', 'restore a backup with restore-db instead; prod is never reset');
    }
    if (args.values.yes && config.kind !== 'local') {
      throw new UserError(`--yes is accepted only for the local target, not ${config.kind}`, 'run reset-db in a terminal and type the database name');
    }
    if (process.stdin.isTTY) {
      const typed = await ask(paint.yellow(`This drops every table in ${config.kind}/${config.database}. Type the database name to confirm: `));
      if (typed !== config.database) {
        throw new UserError('confirmation did not match the database name; nothing was changed', `type ${config.database} exactly to confirm`);
      }
    } else if (!args.values.yes) {
      throw new UserError('reset-db needs confirmation and no terminal is attached; nothing was changed', 'run it in a terminal, or pass --yes for the local target');
    }

    const target = await openTarget(config, { start: config.kind === 'local' });
    const wayBack = await keepWayBack(target, 'pre-reset', { ops, logger: log });
    process.stderr.write(`way back: ${describeWayBack(wayBack, config.database)}\n`);
    await dropSchema(target.admin, config.database, { owner: target.roles.owner });
    const report = await setupTarget(target, readMigrations(MIGRATIONS_DIR));
    if (args.values.json) {
      printJson({ target: config.kind, database: config.database, backup: wayBack.kind === 'dump' ? wayBack.location : null, copy: wayBack.kind === 'copy' ? wayBack.database : null, wayBack: describeWayBack(wayBack, config.database), summary: describeSetup(report) });
    } else {
      process.stdout.write(`reset-db (${config.kind}/${config.database}): schema rebuilt; ${describeSetup(report)}\n`);
    }
    return EXIT.ok;
  },
);
