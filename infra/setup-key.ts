import { createHash } from 'node:crypto';
import { appConnectionLimit, type PoolBudget } from '../core/config/target-settings.ts';
import type { Migration } from '../core/migrations/files.ts';
import { roleModel } from '../core/roles/model.ts';
import { modelStatements } from '../core/roles/model-sql.ts';
import { createDatabaseSql } from '../core/db/databases.ts';
import { pgUuidv7 } from '../core/extensions/bundled.ts';
import { pgTleInstallBundled } from '../core/extensions/pgtle.ts';
import { createStatement } from '../core/extensions/uuidv7.ts';

/**
 * The content key of a bootstrap run: it changes exactly when setup would do something new,
 * i.e. when a migration file or the role model (its SQL, or the pool budget behind the app
 * role's CONNECTION LIMIT) changes. The dev bootstrap container is replaced, and the prod
 * bootstrap Lambda re-invoked, when it changes. Pure.
 */

export interface SetupKeyInput {
  database: string;
  pool: PoolBudget;
  migrations: readonly Migration[];
}

/** Bump when the key's layout changes, so old and new keys never collide. */
const LAYOUT = 'pgsteward-setup-key/2';

/**
 * The role model and the pg_uuidv7 setup as SQL text, without passwords (verifiers are salted,
 * so they would change the key every run). The SQL pg_uuidv7's registration carries its whole
 * install script, so an edited extension re-runs the bootstrap too.
 */
export function roleDefinitionSql(database: string, pool: PoolBudget): string[] {
  const model = roleModel({ database, appConnectionLimit: appConnectionLimit(pool) });
  return [createDatabaseSql(database, model.roles.owner), ...modelStatements(model), pgTleInstallBundled(pgUuidv7()), createStatement('public')];
}

/** One line per migration: version, file and the SHA-384 sqlx records, so any byte change shows. */
export function migrationsDigest(migrations: readonly Migration[]): string {
  const h = createHash('sha256');
  for (const m of migrations) h.update(`${m.version}\t${m.file}\t${m.checksum.toString('hex')}\n`);
  return h.digest('hex');
}

export function roleDefinitionDigest(database: string, pool: PoolBudget): string {
  const h = createHash('sha256');
  for (const s of roleDefinitionSql(database, pool)) h.update(`${s}\n;\n`);
  return h.digest('hex');
}

export function setupKey(i: SetupKeyInput): string {
  return createHash('sha256')
    .update(`${LAYOUT}\n${i.database}\nmigrations ${migrationsDigest(i.migrations)}\nroles ${roleDefinitionDigest(i.database, i.pool)}\n`)
    .digest('hex');
}
