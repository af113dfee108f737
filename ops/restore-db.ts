#!/usr/bin/env -S npx tsx
import { question } from 'zx';
import { runChecks } from '../checks/suite.ts';
import { runCommand, TARGET_OPTIONS } from '../core/cli/command.ts';
import { paint } from '../core/cli/paint.ts';
import { progressLine } from '../core/cli/progress.ts';
import { CONFIG_OPTION, opsContext, printJson, storageOf } from '../core/backup/cli-support.ts';
import { describeWayBack, restoreBackup, restoreGuard, type BackupSource, type RestoreDestination } from '../core/backup/restore.ts';
import { isBackupName } from '../core/backup/names.ts';
import { TARGET_KINDS, type TargetKind } from '../core/config/target-settings.ts';
import { validateName } from '../core/config/role-names.ts';
import { EXIT, UserError } from '../core/errors.ts';
import { openTarget } from '../core/open-target.ts';

await runCommand(
  {
    name: 'restore-db',
    summary: 'restore a backup (checksum first) into a new database, or over an existing one when confirmed',
    positionals: '[BACKUP]',
    options: {
      ...TARGET_OPTIONS,
      ...CONFIG_OPTION,
      as: { type: 'string', description: 'name of the new database to restore into (default <db>_restore_<time>)', valueName: 'NAME' },
      'into-existing': { type: 'boolean', description: 'DESTRUCTIVE: replace the contents of the target database (--database)' },
      confirm: { type: 'string', description: 'the database name, typed, to confirm --into-existing (asked for on a terminal)', valueName: 'NAME' },
      force: { type: 'boolean', description: 'also required for --into-existing on the prod target' },
      'no-safety-backup': { type: 'boolean', description: 'overwrite without taking a safety backup first (no way back)' },
      'from-target': { type: 'string', description: 'take the backup from this target\'s storage (default: --target)', valueName: 'NAME' },
      'from-database': { type: 'string', description: 'take the backup from this database\'s backups (default: --database)', valueName: 'NAME' },
    },
    details: [
      'BACKUP is a backup name (local-20261125T031500Z.dump) in the storage, or a path to a .dump file with its',
      '.json manifest beside it; the newest backup when omitted. The SHA-256 is checked before anything else.',
      'Afterwards the checks suite runs against the result (with the source database\'s role names) and the',
      'row counts are compared with the manifest: exit 1 when either finds a problem.',
      'Examples:',
      '  npm run restore-db                                   # newest backup into a new scratch database',
      '  npm run restore-db -- local-20261125T031500Z.dump --as app_copy',
      '  npm run restore-db -- --into-existing --confirm app  # replace app (safety backup first)',
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
      confirm = (await question(paint.yellow(`This replaces every table in ${config.kind}/${config.database}. Type the database name to confirm: `))).trim();
    }
    // Flags first: a refused restore touches nothing, not even the backup.
    restoreGuard({ targetKind: config.kind, database: config.database, into, confirm, force: Boolean(v.force) });

    const arg = args.positionals[0];
    const source: BackupSource = arg && (arg.includes('/') || !isBackupName(arg)) ? { file: arg } : { storage: storageOf(ctx, fromKind as TargetKind, fromDatabase), name: arg };
    const target = await openTarget(config);
    const progress = progressLine('restore-db');
    const report = await restoreBackup(target, {
      source,
      into,
      confirm,
      force: Boolean(v.force),
      safetyBackup: !v['no-safety-backup'],
      checks: runChecks,
      ops,
      logger: log,
      onProgress: progress,
    });
    progress('');
    if (v.json) {
      printJson(report);
    } else {
      const w = process.stdout.write.bind(process.stdout);
      w(`restore-db: ${report.backup.name} (${report.backup.target}/${report.backup.database}, ${report.backup.startedAt}) into ${report.destination.created ? 'new ' : ''}database ${report.destination.database}\n`);
      w(`  integrity: sha256 ${report.backup.sha256} ok\n`);
      if (report.safetyBackup) w(`  previous contents kept: ${describeWayBack(report.safetyBackup, report.destination.database)}\n`);
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
