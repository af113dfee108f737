#!/usr/bin/env -S npx tsx
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCommand, TARGET_OPTIONS, type ParsedArgs } from '../core/cli/command.ts';
import { targetConfigFromArgs } from '../core/cli/target-args.ts';
import { paint } from '../core/cli/paint.ts';
import { progressLine } from '../core/cli/progress.ts';
import { roleNames, validateName, type RoleNames } from '../core/config/role-names.ts';
import type { TargetKind } from '../core/config/target-settings.ts';
import type { ProjectConfig } from '../core/config/project-config.ts';
import { CONFIG_OPTION } from '../core/cli/ops-context.ts';
import { ignoreMissingFromArgs, MIGRATION_OPTIONS, migrationsDirFromArgs, projectConfigFromArgs, targetDefaultsOf } from '../core/cli/project-args.ts';
import { speaksFor } from '../core/config/project-config.ts';
import { withConnection } from '../core/db/connect.ts';
import { readLedger } from '../core/migrations/ledger.ts';
import { readMigrations } from '../core/migrations/files.ts';
import { configFileLocation } from '../core/config/ops-config.ts';
import { REPO_ROOT } from '../core/paths.ts';
import { unconfiguredExpectations } from './expectations.ts';
import { redactedUrl, type ConnectionSettings } from '../core/db/url.ts';
import { UserError } from '../core/errors.ts';
import { adminConnection, openTarget } from '../core/open-target.ts';
import { CHECKS, runChecks } from './suite.ts';
import { exitCodeFor } from './report/exit-code.ts';
import { formatHuman, type Style } from './report/human.ts';
import { toJson } from './report/json.ts';
import { toJunit } from './report/junit.ts';
import { listFlag } from './cli-args.ts';
import { runWriteFixes, writeFixesRequest } from './fixes/command.ts';
import { MIGRATIONS_DIR } from '../core/paths.ts';

/** The checks that compare the database with a migrations folder (migration-state too, but it is the ledger policy's). */
const FOLDER_CHECKS = ['migration-lint', 'migration-data-preservation', 'schema-drift'];

const ids = CHECKS.map((c) => `  ${c.id.padEnd(28)}${c.severity === 'warning' ? '(warning) ' : ''}${c.title}`).join('\n');

interface Resolved {
  connection: ConnectionSettings;
  /** The target's kind and server, for schema-drift's reference (same server for local and dev, an ephemeral cluster for prod). */
  target: { kind: TargetKind; admin: ConnectionSettings; binDir: string | undefined };
}

/**
 * The database under check, by the rule every command follows: the URL's path names it (as in
 * sqlx's DATABASE_URL), else --database, DB_NAME, the config file's `database`, or app; the
 * target gives the connection.
 */
async function resolveConnection(args: ParsedArgs, project: ProjectConfig): Promise<Resolved> {
  const config = targetConfigFromArgs(args, process.env, targetDefaultsOf(project));
  const target = await openTarget(config, { start: false });
  return { connection: adminConnection(target), target: { kind: config.kind, admin: target.admin, binDir: config.local.binDir } };
}

/**
 * Whether the configuration in use speaks for the database under check (see speaksFor). When
 * it does not, the database is checked as a new user's would be: generic checks only, and the
 * checks that compare with a migrations folder only once one is given. Says so on stderr.
 */
async function whoseConfiguration(args: ParsedArgs, project: ProjectConfig, connection: ConnectionSettings, only: string[] | undefined, skip: string[] | undefined) {
  const v = args.values;
  const explicit = configFileLocation({ file: v.config as string | undefined, env: process.env, repoRoot: REPO_ROOT }).explicit;
  const ownFolder = project.migrationsDir ?? MIGRATIONS_DIR;
  const own =
    explicit ||
    project.source === undefined ||
    speaksFor({ explicit, source: project.source, ledger: await withConnection(connection, { applicationName: 'pgsteward checks' }, readLedger), migrations: readMigrations(ownFolder) });
  const folderGiven = typeof v.migrations === 'string';
  const folderChecks = own || folderGiven ? [] : FOLDER_CHECKS.filter((id) => !(skip ?? []).includes(id));
  if (!own) {
    if (only && !folderGiven && only.every((id) => FOLDER_CHECKS.includes(id))) {
      throw new UserError(`${only.join(', ')} compare ${connection.database} with its migrations, and ${project.source} describes databases built from another folder`, "pass --migrations DIR (the application's folder) or --config FILE (its configuration)");
    }
    const need = folderChecks.length ? `; ${folderChecks.join(', ')} need --migrations DIR` : '';
    process.stderr.write(`note: ${project.source} describes databases built from ${path.relative(process.cwd(), ownFolder) || '.'}, and ${connection.database} was not: checking it with no configuration (generic checks only${need}); pass --config FILE for its own settings\n`);
  }
  return { own, folderChecks };
}

const stdoutStyle: Style = {
  ok: paint.green,
  warn: paint.yellow,
  // paint.red follows stderr's terminal; the report goes to stdout, so both must be terminals.
  fail: (s) => (process.stdout.isTTY ? paint.red(s) : s),
  dim: paint.dim,
  bold: paint.bold,
};

await runCommand(
  {
    name: 'checks',
    summary: 'verify a database: keys, indexes, triggers, search, privileges, migrations (read-only)',
    options: {
      ...TARGET_OPTIONS,
      ...CONFIG_OPTION,
      'roles-of': { type: 'string', description: "check roles named after another database (a restored copy of NAME uses NAME's roles)", valueName: 'NAME' },
      only: { type: 'string', multiple: true, description: 'run only these check ids (comma-separated or repeated)', valueName: 'IDS' },
      skip: { type: 'string', multiple: true, description: 'skip these check ids (comma-separated or repeated)', valueName: 'IDS' },
      strict: { type: 'boolean', description: 'warnings fail too (exit 1)' },
      junit: { type: 'string', description: 'also write a JUnit XML report to FILE', valueName: 'FILE' },
      ...MIGRATION_OPTIONS,
      verbose: { type: 'boolean', short: 'v', description: 'list every subject that passed, not only findings (--junit implies it)' },
      'write-fixes': { type: 'boolean', description: 'write migrations that repair every finding with a mechanical fix into DIR (default the migrations folder); docs/checks/writing-fixes.md' },
      'dry-run': { type: 'boolean', description: 'with --write-fixes: print the files instead of writing them' },
    },
    positionals: '[--write-fixes [DIR]]',
    details: [
      'Examples:',
      '  npm run checks                                  # the local target, database app',
      '  npm run checks -- --target prod --json          # DATABASE_URL is the admin connection',
      '  npm run checks -- --write-fixes --dry-run        # the migrations that would repair the findings',
      '  npm run checks -- --url postgres://admin@127.0.0.1:5432/app_restore --roles-of app',
      '  npm run checks -- --skip migration-state --junit reports/checks.xml',
      '  npm run checks -- --config ../shop/pgsteward.config.json --url postgres://admin@db:5432/shop',
      '',
      'What the checks hold the database to comes from the config file (docs/configuration.md): with none,',
      'only the generic checks run and the report names the policies it did not evaluate.',
      '',
      'Checks:',
      ids,
      '',
      'Nothing in the database is changed: the session is read-only and probes run in transactions that are rolled back.',
      'schema-drift builds the database its migrations describe to compare with: on local and dev in a scratch',
      'database on the same server (removed afterwards), on prod in an ephemeral local cluster, never on prod.',
      'Exit 2 means the checks could not run (unreachable server, bad credentials, a check that failed to run).',
    ].join('\n'),
  },
  async (args) => {
    const v = args.values;
    const fixes = writeFixesRequest(v, args.positionals, typeof v.migrations === 'string' ? v.migrations : MIGRATIONS_DIR);
    const only = listFlag(v.only);
    const skip = listFlag(v.skip);
    const strict = Boolean(v.strict);
    const roles: RoleNames | undefined = typeof v['roles-of'] === 'string' ? roleNames(validateName(v['roles-of'], '--roles-of database name')) : undefined;
    const project = projectConfigFromArgs(args);
    const { connection, target } = await resolveConnection(args, project);
    const { own, folderChecks } = await whoseConfiguration(args, project, connection, only, skip);
    // JUnit promises a test case per verified subject, so it needs them listed.
    const verbose = Boolean(v.verbose) || typeof v.junit === 'string';
    const progress = v.json ? () => {} : progressLine('checks');
    const report = await runChecks({
      connection,
      ...(roles ? { roles } : {}),
      ...(only ? { only } : {}),
      ...(skip || folderChecks.length ? { skip: [...(skip ?? []), ...folderChecks] } : {}),
      migrationsDir: migrationsDirFromArgs(args, project),
      ignoreMissing: ignoreMissingFromArgs(args, project),
      config: own ? project.checks : unconfiguredExpectations(),
      target,
      verbose,
      onCheck: (c, i, n) => progress(`${c.id} (${i + 1}/${n})`),
    });
    progress('');
    const exitCode = exitCodeFor(report, strict);
    if (typeof v.junit === 'string') {
      const file = path.resolve(v.junit);
      try {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, toJunit(report, { strict }));
      } catch (e) {
        throw new UserError(`cannot write the JUnit report to ${file}: ${(e as Error).message.split('\n')[0]}`, 'pass a writable path to --junit');
      }
    }
    if (fixes) return runWriteFixes(report, connection, fixes, Boolean(v.json));
    if (v.json) {
      process.stdout.write(JSON.stringify(toJson(report, { strict, exitCode }), null, 2) + '\n');
    } else {
      const header = `checks: ${redactedUrl(connection)}`;
      process.stdout.write(formatHuman(report, { style: stdoutStyle, verbose: Boolean(v.verbose), header, strict }));
    }
    return exitCode;
  },
);
