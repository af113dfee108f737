#!/usr/bin/env -S npx tsx
import { runChecksWith } from '../checks/suite.ts';
import { projectConfigFromArgs } from '../core/cli/project-args.ts';
import { describeWayBack, isBackupName, restoreBackup, restoreGuard, storageFor, type BackupSource, type RestoreDestination } from '../core/backup/index.ts';
import { runCommand, TARGET_OPTIONS } from '../core/cli/command.ts';
import { printJson } from '../core/cli/json.ts';
import { CONFIG_OPTION, opsContext } from '../core/cli/ops-context.ts';
import { paint } from '../core/cli/paint.ts';
import { progressLine } from '../core/cli/progress.ts';
import { ask } from '../core/cli/prompt.ts';
import { abortOnSignals } from '../core/cli/signals.ts';
import { TARGET_KINDS, type TargetKind } from '../core/config/target-settings.ts';
import { validateName } from '../core/config/role-names.ts';
import { EXIT, UserError } from '../core/errors.ts';
import { openTarget } from '../core/open-target.ts';

await runCommand(
  {
    name: 'restore-db',
    summary: 'restore a backup (checksum first) into a new database, or in place of an existing one when confirmed',
    positionals: '[BACKUP]',
    options: {
      ...TARGET_OPTIONS,
      ...CONFIG_OPTION,
      as: { type: 'string', description: 'name of the new database to restore into (default <db>_restore_<time>)', valueName: 'NAME' },
      'into-existing': { type: 'boolean', description: 'DESTRUCTIVE: replace the target database (--database); the replaced one is kept as <db>_before_<time>' },
      confirm: { type: 'string', description: 'the database name, typed, to confirm --into-existing (asked for on a terminal)', valueName: 'NAME' },
      force: { type: 'boolean', description: 'also required for --into-existing on the prod target' },
      'no-safety-backup': { type: 'boolean', description: 'drop the replaced database once the restore has landed (no way back)' },
      'from-target': { type: 'string', description: 'take the backup from this target\'s storage (default: --target)', valueName: 'NAME' },
      'from-database': { type: 'string', description: 'take the backup from this database\'s backups (default: --database)', valueName: 'NAME' },
    },
    details: [
      'BACKUP is a backup name (local-20261125T031500Z.dump) in the storage, or a path to a .dump file with its',
      '.json manifest beside it; the newest backup when omitted. The SHA-256 is checked before anything else.',
      'The backup is restored into a new database and proved there: the row counts are compared with the',
      'manifest and the checks suite runs. With --into-existing the new database then takes the name of the',
      'existing one in one transaction, and the replaced database is kept as <db>_before_<time>; a failure',
      'or an interruption before that leaves the existing database exactly as it was.',
      'A dump of another database restored over (or as) a database with roles of its own gets that database\'s',
      'role model (owner, grants, default privileges); otherwise a new database keeps the source\'s roles.',
      'Exit 1 when the checks or the row counts find a problem; 130/143 when interrupted (nothing is left behind).',
      'Examples:',
      '  npm run restore-db                                   # newest backup into a new scratch database',
      '  npm run restore-db -- local-20261125T031500Z.dump --as app_copy',
      '  npm run restore-db -- --into-existing --confirm app  # replace app (kept as app_before_<time>)',
      '  npm run restore-db -- --target prod --into-existing --confirm app --force',
      '  npm run restore-db -- --from-target prod --as prod_copy   # newest prod backup into the local server',
    ].join('\n'),
  },
  async (args) => {
    const ctx = opsContext('restore-db', args);
    const { config, ops, log } = ctx;
    const v = args.values;
    if (args.positionals.length > 1) throw new UserError('restore-db takes at most one backup', 'see restore-db --help');
    const existing = Boolean(v['into-existing']);
    if (existing && v.as) throw new UserError('--as and --into-existing exclude each other', 'choose a new database (--as) or the existing one (--into-existing)');
    const into: RestoreDestination = existing ? { kind: 'existing' } : { kind: 'new', database: v.as as string | undefined };
    const fromKind = (v['from-target'] as string | undefined) ?? config.kind;
    if (!(TARGET_KINDS as readonly string[]).includes(fromKind)) throw new UserError(`unknown target "${fromKind.slice(0, 20)}"`, `use --from-target ${TARGET_KINDS.join('|')}`);
    const fromDatabase = validateName((v['from-database'] as string | undefined) ?? config.database);

    let confirm = v.confirm as string | undefined;
    if (existing && confirm === undefined && process.stdin.isTTY) {
      confirm = await ask(paint.yellow(`This replaces ${config.kind}/${config.database} with the backup (the current one is kept as ${config.database}_before_<time>). Type the database name to confirm: `));
    }
    // Flags first: a refused restore touches nothing, not even the backup.
    restoreGuard({ targetKind: config.kind, database: config.database, into, confirm, force: Boolean(v.force) });

    const arg = args.positionals[0];
    const source: BackupSource = arg && (arg.includes('/') || !isBackupName(arg)) ? { file: arg } : { storage: storageFor({ ...config, kind: fromKind as TargetKind, database: fromDatabase }, ops), name: arg };
    const target = await openTarget(config);
    const progress = progressLine('restore-db');
    const ac = abortOnSignals(log);
    const report = await restoreBackup(target, {
      source,
      into,
      confirm,
      force: Boolean(v.force),
      safetyBackup: !v['no-safety-backup'],
      checks: runChecksWith(projectConfigFromArgs(args)),
      ops,
      logger: log,
      onProgress: progress,
      signal: ac.signal,
    });
    progress('');
    if (v.json) {
      printJson(report);
    } else {
      const w = process.stdout.write.bind(process.stdout);
      w(`restore-db: ${report.backup.name} (${report.backup.target}/${report.backup.database}, ${report.backup.startedAt}) into ${report.destination.created ? 'new ' : ''}database ${report.destination.database}\n`);
      if (report.source.differs) {
        w(`  source database: ${report.source.database}, not ${report.destination.database}: ${report.roles.adopted ? `restored with ${report.destination.database}'s roles (owner ${report.roles.owner}; ${report.source.database}'s own grants were left out)` : `a copy with ${report.source.database}'s roles (owner ${report.roles.owner})`}\n`);
      }
      w(`  integrity: sha256 ${report.backup.sha256} ok\n`);
      w(`  versions: pg_dump ${report.backup.pgDump} of PostgreSQL ${report.backup.server}; restored with pg_restore ${report.restoredWith.pgRestore} into PostgreSQL ${report.restoredWith.server}\n`);
      if (report.safetyBackup) w(`  way back: ${describeWayBack(report.safetyBackup, report.destination.database)}\n`);
      else if (!report.destination.created) w(`  way back: none (--no-safety-backup dropped the replaced database)\n`);
      w(`  checks: ${report.checks.passed} passed, ${report.checks.failed} failed, ${report.checks.warnings} warnings\n`);
      for (const f of report.checks.failures) w(`    ${paint.red('✗')} ${f}\n`);
      w(`  row counts: ${report.rowCounts.ok ? `all ${report.rowCounts.tables} tables match the manifest` : `${report.rowCounts.mismatches.length} table(s) differ`}\n`);
      for (const m of report.rowCounts.mismatches) w(`    ${paint.red('✗')} ${m.table}: manifest ${m.expected ?? 'absent'}, restored ${m.actual ?? 'absent'}\n`);
      w(report.ok ? `${paint.green('restored and verified')}\n` : `${paint.yellow('restored, with findings')}\n`);
      if (report.destination.created) w(paint.dim(`  (drop it when done: DROP DATABASE ${report.destination.database};)\n`));
    }
    return report.ok ? EXIT.ok : EXIT.findings;
  },
);
