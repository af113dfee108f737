import { LOGIN_ROLES, roleNames, type RoleKind, type RoleNames } from '../config/role-names.ts';

/**
 * The least-privilege model of one database as data: what each of its five roles is, what it
 * is a member of, which settings it carries, and what it may do on the database, its schemas
 * and every object in them. Setup converges the server to exactly this; the checks verify it.
 */

/** A role name, or PUBLIC (every role). */
export type Grantee = string;
export const PUBLIC = 'PUBLIC';

export interface RoleSpec {
  kind: RoleKind;
  name: string;
  login: boolean;
  /** -1: no limit. */
  connectionLimit: number;
  /** The roles it is a member of (with INHERIT and SET, never ADMIN); nothing else. */
  memberOf: readonly string[];
}

export interface RoleSetting {
  role: string;
  /** `ALTER ROLE … IN DATABASE`; undefined for a setting in every database. */
  database: string | undefined;
  name: string;
  value: string;
}

/** Privileges by grantee; a managed grantee that is not listed gets none. */
export type Grants = Readonly<Record<Grantee, readonly string[]>>;

/** `ALTER DEFAULT PRIVILEGES FOR ROLE <role> [IN SCHEMA <schema>] … ON <objtype>`. */
export interface DefaultGrants {
  role: string;
  schema: string | undefined;
  /** pg_default_acl.defaclobjtype: r tables, S sequences, f functions. */
  objtype: DefaultObjtype;
  grants: Grants;
}
export type DefaultObjtype = 'r' | 'S' | 'f' | 'T' | 'n';
/** The object types whose defaults the model fixes completely (PUBLIC included). */
export const MANAGED_DEFAULT_OBJTYPES: readonly DefaultObjtype[] = ['r', 'S', 'f'];

export interface RoleModel {
  database: string;
  roles: RoleNames;
  specs: readonly RoleSpec[];
  settings: readonly RoleSetting[];
  /**
   * Grantees whose privileges on the database and its objects the model fixes exactly. The
   * owner role is not among them: it owns the objects, which is all it needs.
   */
  managedGrantees: readonly Grantee[];
  /** The schemas whose every table, sequence and function the model covers. */
  schemas: readonly string[];
  databaseGrants: Grants;
  schemaGrants: Grants;
  tableGrants: Grants;
  /** sqlx's `_sqlx_migrations`: readable for the read-only roles, fenced off from the app. */
  ledgerGrants: Grants;
  sequenceGrants: Grants;
  routineGrants: Grants;
  defaultGrants: readonly DefaultGrants[];
}

export const LEDGER_TABLE = '_sqlx_migrations';
const DML = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

export interface ModelInput {
  database: string;
  /** The roles, when they are another database's (a restored copy keeps its source's roles); default roleNames(database). */
  roles?: RoleNames;
  /** The app role's CONNECTION LIMIT: its pool budget (see appConnectionLimit). */
  appConnectionLimit: number;
  schemas?: readonly string[];
}

/** Pure: the model for one database. */
export function roleModel(i: ModelInput): RoleModel {
  const r = i.roles ?? roleNames(i.database);
  const schemas = i.schemas ?? ['public'];
  const login = (kind: RoleKind): boolean => (LOGIN_ROLES as readonly string[]).includes(kind);
  const spec = (kind: RoleKind): RoleSpec => ({
    kind,
    name: r[kind],
    login: login(kind),
    connectionLimit: kind === 'app' ? Math.trunc(i.appConnectionLimit) : -1,
    memberOf: kind === 'migrator' ? [r.owner] : [],
  });
  const readers = { [r.readonly]: ['SELECT'], [r.backup]: ['SELECT'] };
  return {
    database: i.database,
    roles: r,
    specs: (['owner', 'migrator', 'app', 'readonly', 'backup'] as const).map(spec),
    // Objects the migrator creates, by sqlx or by us, belong to the owner role.
    settings: [{ role: r.migrator, database: i.database, name: 'role', value: r.owner }],
    managedGrantees: [r.migrator, r.app, r.readonly, r.backup, PUBLIC],
    schemas,
    databaseGrants: { [r.migrator]: ['CONNECT'], [r.app]: ['CONNECT'], [r.readonly]: ['CONNECT'], [r.backup]: ['CONNECT'] },
    schemaGrants: { [r.app]: ['USAGE'], [r.readonly]: ['USAGE'], [r.backup]: ['USAGE'] },
    tableGrants: { [r.app]: DML, ...readers },
    ledgerGrants: readers,
    sequenceGrants: { [r.app]: ['USAGE'], ...readers },
    routineGrants: { [r.app]: ['EXECUTE'], [r.readonly]: ['EXECUTE'] },
    defaultGrants: [
      ...schemas.flatMap((schema): DefaultGrants[] => [
        { role: r.owner, schema, objtype: 'r', grants: { [r.app]: DML, ...readers } },
        { role: r.owner, schema, objtype: 'S', grants: { [r.app]: ['USAGE'], ...readers } },
        { role: r.owner, schema, objtype: 'f', grants: { [r.app]: ['EXECUTE'], [r.readonly]: ['EXECUTE'] } },
      ]),
      // No EXECUTE for PUBLIC on the owner's future functions, in any schema.
      { role: r.owner, schema: undefined, objtype: 'f', grants: {} },
    ],
  };
}

/** The privileges a grant table gives one grantee. */
export function granted(g: Grants, grantee: Grantee): readonly string[] {
  return g[grantee] ?? [];
}

export function roleNamesOf(m: RoleModel): string[] {
  return m.specs.map((s) => s.name);
}
