#!/usr/bin/env -S npx tsx
/**
 * A CLI-shaped entry to the drift engine for the tests that send it real signals (and a way
 * to run the engine alone; users run `npm run checks -- --only schema-drift`). Prints progress to stdout and
 * the report as JSON; exit 0 without findings, 1 with, 2 on errors.
 *
 *   DRIFT_ADMIN_URL=postgres://… tsx core/drift/testing/drift-entry.ts --kind local --database app
 *
 * `--pause N` makes the reference's last migration sleep N seconds, so a test can signal the
 * process while the reference is being built.
 */
import { runCommand } from '../../cli/command.ts';
import { TARGET_KINDS, type TargetKind } from '../../config/target-settings.ts';
import { parseDatabaseUrl } from '../../db/url.ts';
import { EXIT, UserError } from '../../errors.ts';
import { readMigrations, type Migration } from '../../migrations/files.ts';
import { MIGRATIONS_DIR } from '../../paths.ts';
import { detectDrift } from '../detect.ts';

await runCommand(
  {
    name: 'drift-entry',
    summary: 'compare a database with what its migrations build (test entry of core/drift)',
    options: {
      kind: { type: 'string', description: `${TARGET_KINDS.join('|')}`, valueName: 'KIND' },
      database: { type: 'string', description: 'the live database', valueName: 'NAME' },
      migrations: { type: 'string', description: 'migrations folder (default migrations/)', valueName: 'DIR' },
      pause: { type: 'string', description: 'seconds the reference\'s last migration sleeps', valueName: 'N' },
    },
    details: 'The administrative connection comes from DRIFT_ADMIN_URL.',
  },
  async (args) => {
    const kind = String(args.values.kind ?? 'local') as TargetKind;
    if (!TARGET_KINDS.includes(kind)) throw new UserError(`unknown kind ${kind}`, `use ${TARGET_KINDS.join('|')}`);
    const url = process.env.DRIFT_ADMIN_URL;
    if (!url) throw new UserError('DRIFT_ADMIN_URL is not set', 'set it to the administrative connection URL');
    const database = String(args.values.database ?? 'app');
    let migrations: Migration[] = readMigrations(String(args.values.migrations ?? MIGRATIONS_DIR));
    const pause = Number(args.values.pause ?? 0);
    if (pause > 0) {
      const last = migrations.at(-1)!;
      migrations = [...migrations.slice(0, -1), { ...last, sql: `${last.sql}\nSELECT pg_sleep(${pause});` }];
    }
    const report = await detectDrift({
      kind,
      admin: parseDatabaseUrl(url, 'DRIFT_ADMIN_URL'),
      database,
      migrations,
      onProgress: (m) => process.stdout.write(`progress: ${m}\n`),
    });
    process.stdout.write(JSON.stringify(report) + '\n');
    return report.findings.length ? EXIT.findings : EXIT.ok;
  },
);
