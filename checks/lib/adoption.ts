import path from 'node:path';
import { MIGRATIONS_DIR, REPO_ROOT } from '../../core/paths.ts';
import type { CheckContext } from '../types.ts';

/**
 * Whether a database is one pgsteward has set up, as far as advice is concerned. Only then may
 * a fix say "run setup-db": on any other database (another application's, or a sqlx one not yet
 * taken over) that command would install our roles and grants, and with our default folder our
 * schema, into someone else's database. There the advice is the adoption guide.
 */
export interface Ownership {
  /** sqlx's ledger, `_sqlx_migrations`, is there (ours is sqlx's, column for column). */
  ledger: boolean;
  /** At least one of the database's least-privilege roles (`<db>_owner`, …) exists. */
  roles: boolean;
}

export const ADOPTION_GUIDE = 'docs/adopting-sqlx.md';

/** Reads the two facts once per run, and only when a finding needs advice. */
export function readOwnership(ctx: Pick<CheckContext, 'sql' | 'roles' | 'once'>): Promise<Ownership> {
  return ctx.once('ownership', async () => {
    const names = ctx.roles ? Object.values(ctx.roles) : [];
    const [r] = await ctx.sql.unsafe<Ownership[]>(
      `SELECT to_regclass('_sqlx_migrations') IS NOT NULL AS ledger, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ANY ($1::text[])) AS roles`,
      [names] as never[],
    );
    return r!;
  });
}

/** `--migrations DIR` when the checks compared with a folder other than this project's, relative to the repository where it is inside it. */
function migrationsFlag(migrationsDir: string): string {
  if (path.resolve(migrationsDir) === path.resolve(MIGRATIONS_DIR)) return '';
  const rel = path.relative(REPO_ROOT, path.resolve(migrationsDir));
  return ` --migrations ${rel.startsWith('..') || path.isAbsolute(rel) ? migrationsDir : rel}`;
}

/**
 * Pure: the advice for a database that needs setting up (pending migrations, a missing role).
 * `npm run setup-db` only where pgsteward already set this database up; otherwise the adoption
 * guide, which says what setup-db would change there and how to run it on the application's folder.
 */
export function setupAdvice(o: Ownership, database: string, migrationsDir: string, why: string): string {
  if (o.ledger && o.roles) return `npm run setup-db -- --database ${database}${migrationsFlag(migrationsDir)}`;
  const missing = [!o.ledger && 'no _sqlx_migrations ledger', !o.roles && `none of the ${database}_* roles`].filter(Boolean).join(' and ');
  return `this database has ${missing}, so pgsteward has not set it up: ${why}; read ${ADOPTION_GUIDE} before running setup-db on it`;
}
