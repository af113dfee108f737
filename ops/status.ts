#!/usr/bin/env -S npx tsx
import { runCommand, TARGET_OPTIONS } from '../core/cli/command.ts';
import { targetConfigFromArgs } from '../core/cli/target-args.ts';
import { withConnection } from '../core/db/connect.ts';
import { serverInfo } from '../core/db/server.ts';
import { redactedUrl } from '../core/db/url.ts';
import { EXIT } from '../core/errors.ts';
import { LocalCluster } from '../core/local/cluster.ts';
import { folderNotes, readMigrationFolder } from '../core/migrations/files.ts';
import { migrationStatus } from '../core/migrations/runner.ts';
import { CONFIG_OPTION } from '../core/cli/ops-context.ts';
import { ignoreMissingFromArgs, MIGRATION_OPTIONS, migrationsDirFromArgs, projectConfigFromArgs, targetDefaultsOf } from '../core/cli/project-args.ts';
import { openTarget, adminConnection } from '../core/open-target.ts';
import { paint } from '../core/cli/paint.ts';
import { backupToolsFor } from '../core/pgtools/backup-tools.ts';

await runCommand(
  {
    name: 'status',
    summary: 'show the target, server version, applied and pending migrations, and the roles present',
    options: {
      ...TARGET_OPTIONS,
      ...CONFIG_OPTION,
      ...MIGRATION_OPTIONS,
    },
    details: 'Exit 1 when migrations are pending, drifted or dirty, or a role is missing.\nThe URL path names the database (postgres://…/shop reports on shop), as sqlx reads it.',
  },
  async (args) => {
    const project = projectConfigFromArgs(args);
    const config = targetConfigFromArgs(args, process.env, targetDefaultsOf(project));
    if (config.kind === 'local') {
      const cluster = await LocalCluster.open({ stateDir: config.stateDir, ...config.local });
      const s = cluster.status();
      if (!s.running) {
        const out = { target: 'local', cluster: { running: false, dataDir: cluster.dataDir, initialized: cluster.initialized } };
        if (args.values.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
        else process.stdout.write(`target local: cluster not running (${cluster.dataDir}${cluster.initialized ? '' : ', not initialized'}); start it with npm start\n`);
        return EXIT.findings;
      }
    }
    const target = await openTarget(config);
    const folder = readMigrationFolder(migrationsDirFromArgs(args, project));
    const migrations = folder.migrations;
    const { version, rolesPresent, dbExists } = await withConnection(target.admin, { applicationName: 'pgsteward status' }, async (maint) => ({
      version: (await serverInfo(maint)).version,
      rolesPresent: (await maint<{ r: string }[]>`select rolname as r from pg_roles where rolname = any(${Object.values(target.roles)})`).map((r) => r.r),
      dbExists: (await maint`select 1 from pg_database where datname = ${config.database}`).length > 0,
    }));
    let state = { applied: [] as string[], pending: migrations.map((m) => m.file), problem: dbExists ? undefined : (`database ${config.database} does not exist` as string | undefined) };
    if (dbExists) {
      const s = await withConnection(adminConnection(target), { applicationName: 'pgsteward status' }, (sql) => migrationStatus(sql, migrations, { ignoreMissing: ignoreMissingFromArgs(args, project) }));
      state = { applied: s.applied.map((m) => m.file), pending: s.pending.map((m) => m.file), problem: s.problem };
    }
    const missingRoles = Object.values(target.roles).filter((r) => !rolesPresent.includes(r));
    const out = {
      target: config.kind,
      database: config.database,
      url: redactedUrl(target.admin),
      serverVersion: version,
      migrations: { ...state, notes: folderNotes(folder) },
      roles: { present: rolesPresent, missing: missingRoles },
      backups: backupToolsFor(config, version).status,
    };
    if (args.values.json) {
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    } else {
      const lines = [
        `target:     ${config.kind} (${out.url})`,
        `server:     PostgreSQL ${version}`,
        `database:   ${config.database}${dbExists ? '' : ' (missing)'}`,
        `migrations: ${state.applied.length} applied, ${state.pending.length} pending${state.pending.length ? ` (${state.pending.join(', ')})` : ''}`,
        ...out.migrations.notes.map((n) => `            ${n}`),
        `backups:    ${out.backups}`,
        `roles:      ${rolesPresent.length}/${Object.values(target.roles).length} present${missingRoles.length ? `; missing ${missingRoles.join(', ')}` : ''}`,
      ];
      if (state.problem) lines.push(paint.yellow(`problem:    ${state.problem}`));
      process.stdout.write(lines.join('\n') + '\n');
    }
    return state.pending.length || state.problem || missingRoles.length ? EXIT.findings : EXIT.ok;
  },
);
