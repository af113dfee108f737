#!/usr/bin/env -S npx tsx
import { runChecksWith } from '../checks/suite.ts';
import { projectConfigFromArgs } from '../core/cli/project-args.ts';
import { runCommand, TARGET_OPTIONS } from '../core/cli/command.ts';
import { paint } from '../core/cli/paint.ts';
import { progressLine } from '../core/cli/progress.ts';
import { printJson } from '../core/cli/json.ts';
import { CONFIG_OPTION, opsContext } from '../core/cli/ops-context.ts';
import { abortOnSignals } from '../core/cli/signals.ts';
import { storageFor, verifyBackup } from '../core/backup/index.ts';
import { EXIT, UserError } from '../core/errors.ts';
import { openTarget } from '../core/open-target.ts';

await runCommand(
  {
    name: 'verify-backup',
    summary: 'prove a backup restores: restore into a scratch database, run the checks, compare row counts',
    positionals: '[BACKUP]',
    options: { ...TARGET_OPTIONS, ...CONFIG_OPTION },
    details: [
      'Tests the newest backup of the target database, or the one named. The scratch database lives on the',
      "target's server and is always dropped, also on Ctrl-C or SIGTERM (exit 130/143). The outcome is written",
      "into the backup's manifest (verified, or the failure); retention never deletes the newest verified backup.",
      'Scratch databases a killed run left behind on this host are dropped by the next verify or restore.',
      'Exit 0 verified, 1 verification failed, 2 could not run.',
      'Examples:',
      '  npm run verify-backup',
      '  npm run verify-backup -- prod-20261125T031500Z.dump --target prod --json',
    ].join('\n'),
  },
  async (args) => {
    const ctx = opsContext('verify-backup', args);
    if (args.positionals.length > 1) throw new UserError('verify-backup takes at most one backup name', 'see verify-backup --help');
    const target = await openTarget(ctx.config);
    const progress = progressLine('verify-backup');
    const ac = abortOnSignals(ctx.log);
    const report = await verifyBackup(target, { storage: storageFor(ctx.config, ctx.ops), name: args.positionals[0], checks: runChecksWith(projectConfigFromArgs(args)), ops: ctx.ops, logger: ctx.log, onProgress: progress, signal: ac.signal });
    progress('');
    const v = report.verification;
    if (args.values.json) {
      printJson({ backup: report.backup, location: report.location, verification: v, restoredWith: report.restoredWith ?? null });
    } else {
      const w = process.stdout.write.bind(process.stdout);
      const against = report.restoredWith ? ` against PostgreSQL ${report.restoredWith.server}` : '';
      w(`verify-backup: ${report.backup} ${v.ok ? paint.green('VERIFIED') : paint.red('FAILED')}${against} in ${(v.durationMs / 1000).toFixed(1)} s (scratch database ${v.scratchDatabase} dropped)\n`);
      const m = report.manifest;
      w(`  dump: pg_dump ${m.pgDump.version} of PostgreSQL ${m.server.version}${report.restoredWith ? `; restored with pg_restore ${report.restoredWith.pgRestore}` : ''}\n`);
      if (v.error) w(`  ${v.error}\n`);
      if (v.checks) w(`  checks: ${v.checks.passed} passed, ${v.checks.failed} failed, ${v.checks.warnings} warnings\n`);
      for (const f of v.checks?.failures ?? []) w(`    ${paint.red('✗')} ${f}\n`);
      if (v.rowCounts) w(`  row counts: ${v.rowCounts.mismatches.length === 0 ? `all ${v.rowCounts.tables} tables match` : `${v.rowCounts.mismatches.length} table(s) differ`}\n`);
      for (const m of v.rowCounts?.mismatches ?? []) w(`    ${paint.red('✗')} ${m.table}: manifest ${m.expected ?? 'absent'}, restored ${m.actual ?? 'absent'}\n`);
    }
    return v.ok ? EXIT.ok : EXIT.findings;
  },
);
