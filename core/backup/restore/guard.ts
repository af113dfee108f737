import { NAME_PATTERN, roleNames, type RoleNames } from '../../config/role-names.ts';
import type { TargetKind } from '../../config/target-settings.ts';
import { UserError } from '../../errors.ts';

/** Where a restore puts the data: a new database (default), or in place of the target's database. */
export type RestoreDestination = { kind: 'new'; database?: string | undefined } | { kind: 'existing' };

export interface RestoreGuardInput {
  targetKind: TargetKind;
  database: string;
  into: RestoreDestination;
  /** The database name the operator typed. */
  confirm?: string | undefined;
  force?: boolean | undefined;
}

/**
 * Overwriting a database is allowed only when asked for by name; on prod only with --force as
 * well. Pure, and checked before anything is read or touched.
 */
export function restoreGuard(g: RestoreGuardInput): void {
  if (g.into.kind !== 'existing') return;
  if (g.confirm === undefined) {
    throw new UserError(`restoring over the existing database ${g.database} needs a typed confirmation`, `pass --confirm ${g.database} (or run it on a terminal and type the name)`);
  }
  if (g.confirm !== g.database) {
    throw new UserError(`confirmation "${g.confirm.slice(0, 64)}" does not match the database name ${g.database}`, `type the name exactly: --confirm ${g.database}`);
  }
  if (g.targetKind === 'prod' && !g.force) {
    throw new UserError(`refusing to restore over the prod database ${g.database} without --force`, 'add --force if you really mean to replace production data (the replaced database is kept)');
  }
}

export interface RoleModelInput {
  /** The database the dump was taken of, and its roles (from the manifest). */
  source: { database: string; roles: RoleNames };
  /** The name the restored database ends up with. */
  destination: string;
  /** Restoring in place of an existing database. */
  replacing: boolean;
  /** Whether `<destination>_owner` exists on the destination server (setup-db made, or makes, its roles). */
  destinationHasRoles: boolean;
}

export interface RoleModel {
  /** The roles the restored database is owned by and granted to, and the checks run against. */
  roles: RoleNames;
  /**
   * The dump's owners and grants are another database's: restore without them and apply
   * `roles`' model instead (owner, schema and object grants, default privileges).
   */
  adopt: boolean;
}

/**
 * Pure: whose role model a restored database gets. A database that has a role model of its
 * own (the one restored over, or a name setup-db has made roles for) gets that one, so its app
 * role keeps working whatever database the dump came from. Any other new database is a copy
 * of the source and keeps the source's roles.
 */
export function roleModelFor(i: RoleModelInput): RoleModel {
  const own = (i.replacing || i.destinationHasRoles) && NAME_PATTERN.test(i.destination);
  if (!own) return { roles: i.source.roles, adopt: false };
  const roles = roleNames(i.destination);
  const same = (Object.keys(roles) as (keyof RoleNames)[]).every((k) => roles[k] === i.source.roles[k]);
  return { roles, adopt: !same };
}
