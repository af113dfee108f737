#!/usr/bin/env -S npx tsx
import { runCommand, TARGET_OPTIONS } from '../core/cli/command.ts';
import { paint } from '../core/cli/paint.ts';
import { printJson } from '../core/cli/json.ts';
import { CONFIG_OPTION, opsContext } from '../core/cli/ops-context.ts';
import { pruneBackups, storageFor } from '../core/backup/index.ts';
import type { RetentionPolicy } from '../core/config/ops-config.ts';
import { EXIT, UserError } from '../core/errors.ts';

const COUNTS = {
  'keep-last': 'keepLast',
  daily: 'daily',
  weekly: 'weekly',
  monthly: 'monthly',
  'min-age-hours': 'minAgeHours',
} as const satisfies Record<string, keyof RetentionPolicy>;

function count(flag: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(n) || n < min || (flag !== 'min-age-hours' && !Number.isInteger(n))) {
    throw new UserError(`--${flag} must be a ${flag === 'min-age-hours' ? 'number' : 'whole number'} of at least ${min}, got "${raw.slice(0, 20)}"`, `e.g. --${flag} 7`);
  }
  return n;
}

await runCommand(
  {
    name: 'retention',
    summary: 'delete old backups by a grandfather-father-son policy (--dry-run lists what would go)',
    options: {
      ...TARGET_OPTIONS,
      ...CONFIG_OPTION,
      'dry-run': { type: 'boolean', description: 'list what would be kept and deleted; delete nothing' },
      'keep-last': { type: 'string', description: 'keep the newest N backups', valueName: 'N' },
      daily: { type: 'string', description: 'keep the newest backup of each of the last N days with backups', valueName: 'N' },
      weekly: { type: 'string', description: '… of each of the last N ISO weeks', valueName: 'N' },
      monthly: { type: 'string', description: '… of each of the last N months', valueName: 'N' },
      'min-age-hours': { type: 'string', description: 'never delete a backup younger than this', valueName: 'H' },
    },
    details: [
      'Defaults come from the config (backups.retention, per target backups.targets.<t>.retention):',
      'keepLast 7, daily 7, weekly 4, monthly 6, minAgeHours 24. Days, weeks and months are UTC.',
      'The newest verified backup is never deleted, nor anything younger than the minimum age.',
      'The cron runner applies the policy after each scheduled backup.',
      'Examples:',
      '  npm run retention -- --dry-run',
      '  npm run retention -- --target prod --monthly 24',
    ].join('\n'),
  },
  async (args) => {
    const ctx = opsContext('retention', args);
    const policy: RetentionPolicy = { ...ctx.ops.targets[ctx.config.kind].retention };
    for (const [flag, key] of Object.entries(COUNTS)) {
      const raw = args.values[flag] as string | undefined;
      if (raw !== undefined) policy[key] = count(flag, raw, flag === 'keep-last' ? 1 : 0);
    }
    const dryRun = Boolean(args.values['dry-run']);
    const report = await pruneBackups(storageFor(ctx.config, ctx.ops), policy, { dryRun, logger: ctx.log });
    if (args.values.json) {
      printJson(report);
      return EXIT.ok;
    }
    const w = process.stdout.write.bind(process.stdout);
    const p = report.policy;
    w(`retention (${ctx.config.kind}/${ctx.config.database}) in ${report.storage}${dryRun ? paint.yellow(' [dry run: nothing deleted]') : ''}\n`);
    w(`  policy: last ${p.keepLast}, daily ${p.daily}, weekly ${p.weekly}, monthly ${p.monthly}, min age ${p.minAgeHours}h\n`);
    for (const k of report.keep) w(`  ${paint.green('keep  ')} ${k.name}  (${k.reasons.join(', ')})\n`);
    for (const r of report.remove) w(`  ${paint.red(dryRun ? 'would delete' : 'deleted')} ${r.name}\n`);
    for (const l of report.leftovers) w(`  ${paint.red(dryRun ? 'would delete' : 'deleted')} ${l.name}  (${l.reason})\n`);
    for (const u of report.unreadable) w(`  ${paint.yellow('left alone')} ${u.name}  (${u.reason})\n`);
    w(`  ${report.keep.length} kept, ${report.remove.length + report.leftovers.length} ${dryRun ? 'would be deleted' : 'deleted'}\n`);
    return EXIT.ok;
  },
);
