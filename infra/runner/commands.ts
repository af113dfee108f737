/**
 * The ops commands the runner image carries, each bundled to `/app/ops/<name>.mjs`. Shared by
 * the bundler (build/bundle.ts) and the entrypoint, which refuses any other command.
 */
export const RUNNER_COMMANDS = ['cron', 'backup-db', 'restore-db', 'verify-backup', 'retention', 'status', 'setup-db'] as const;
export type RunnerCommand = (typeof RUNNER_COMMANDS)[number];

/** The variables the entrypoint turns into the ops commands' own (see entrypoint.ts). */
export const RUNNER_ENV = {
  secretArn: 'PGSTEWARD_DB_SECRET_ARN',
  secretRole: 'PGSTEWARD_DB_SECRET_ROLE',
  host: 'PGSTEWARD_DB_HOST',
  port: 'PGSTEWARD_DB_PORT',
  sslmode: 'PGSTEWARD_DB_SSLMODE',
  opsConfig: 'PGSTEWARD_OPS_CONFIG',
} as const;
