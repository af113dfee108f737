import { ident, literal } from '../db/connect.ts';
import type { RoleNames, LoginRole } from '../config/names.ts';

/**
 * The least-privilege model as SQL text. Pure: every statement is idempotent, so setup can
 * run them all on every call and converge, whatever state a previous run left.
 */

export interface RoleSqlInput {
  database: string;
  roles: RoleNames;
  appConnectionLimit: number;
  /** SCRAM verifiers by role; a role without one keeps its current password. */
  verifiers: Partial<Record<LoginRole, string>>;
}

/**
 * New roles have none of these powers. A role someone escalated by hand is stripped back,
 * but only then: a non-superuser administrator (the RDS master) may not even mention
 * REPLICATION or BYPASSRLS in ALTER ROLE.
 */
function stripPowers(name: string): string {
  return `DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(name)}
             AND (rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls OR NOT rolinherit)) THEN
    EXECUTE format('ALTER ROLE %I NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT', ${literal(name)});
  END IF;
END $$`;
}

function createRole(name: string, login: boolean): string {
  return `DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(name)}) THEN
    CREATE ROLE ${ident(name)} ${login ? 'LOGIN' : 'NOLOGIN'};
  END IF;
END $$`;
}

/** Statements run against the maintenance database: the roles themselves. */
export function clusterRoleStatements(i: RoleSqlInput): string[] {
  const r = i.roles;
  const pw = (role: LoginRole) => (i.verifiers[role] ? ` PASSWORD ${literal(i.verifiers[role]!)}` : '');
  return [
    createRole(r.owner, false),
    `ALTER ROLE ${ident(r.owner)} NOLOGIN`,
    createRole(r.migrator, true),
    `ALTER ROLE ${ident(r.migrator)} LOGIN${pw('migrator')}`,
    `GRANT ${ident(r.owner)} TO ${ident(r.migrator)}`,
    createRole(r.app, true),
    `ALTER ROLE ${ident(r.app)} LOGIN CONNECTION LIMIT ${Math.trunc(i.appConnectionLimit)}${pw('app')}`,
    createRole(r.readonly, true),
    `ALTER ROLE ${ident(r.readonly)} LOGIN${pw('readonly')}`,
    createRole(r.backup, true),
    `ALTER ROLE ${ident(r.backup)} LOGIN${pw('backup')}`,
    ...Object.values(r).map(stripPowers),
  ];
}

/**
 * Lets a non-superuser administrator (the RDS master user) act as the owner role,
 * which CREATE DATABASE … OWNER and ALTER DEFAULT PRIVILEGES FOR ROLE require.
 */
export function adminMembershipStatement(roles: RoleNames): string {
  return `DO $$ BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('GRANT %I TO %I', ${literal(roles.owner)}, current_user);
  END IF;
END $$`;
}

export function createDatabaseStatement(database: string, roles: RoleNames): string {
  return `CREATE DATABASE ${ident(database)} OWNER ${ident(roles.owner)} ENCODING 'UTF8' TEMPLATE template0`;
}

/** Statements run against the maintenance database once the database exists. */
export function databaseAccessStatements(database: string, roles: RoleNames): string[] {
  const db = ident(database);
  return [
    `ALTER DATABASE ${db} OWNER TO ${ident(roles.owner)}`,
    `REVOKE ALL ON DATABASE ${db} FROM PUBLIC`,
    `GRANT CONNECT ON DATABASE ${db} TO ${ident(roles.migrator)}, ${ident(roles.app)}, ${ident(roles.readonly)}, ${ident(roles.backup)}`,
    // Objects the migrator creates, by sqlx or by us, belong to the owner role.
    `ALTER ROLE ${ident(roles.migrator)} IN DATABASE ${db} SET role = ${literal(roles.owner)}`,
  ];
}

/** Statements run inside the database before migrations: the schema fence and default privileges. */
export function schemaStatements(roles: RoleNames, schema = 'public'): string[] {
  const s = ident(schema);
  const o = ident(roles.owner);
  const app = ident(roles.app);
  const ro = ident(roles.readonly);
  const bk = ident(roles.backup);
  const dp = `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} IN SCHEMA ${s}`;
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s} AUTHORIZATION ${o}`,
    `ALTER SCHEMA ${s} OWNER TO ${o}`,
    `REVOKE ALL ON SCHEMA ${s} FROM PUBLIC`,
    `GRANT USAGE ON SCHEMA ${s} TO ${app}, ${ro}, ${bk}`,
    `${dp} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${app}`,
    `${dp} GRANT USAGE ON SEQUENCES TO ${app}`,
    `${dp} GRANT SELECT ON TABLES TO ${ro}, ${bk}`,
    `${dp} GRANT SELECT ON SEQUENCES TO ${ro}, ${bk}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${o} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`,
    `${dp} GRANT EXECUTE ON FUNCTIONS TO ${app}, ${ro}`,
  ];
}

/** Statements run inside the database after migrations: grants on what exists, and the ledger fenced off from the app. */
export function objectGrantStatements(roles: RoleNames, schema = 'public'): string[] {
  const s = ident(schema);
  const app = ident(roles.app);
  const ro = ident(roles.readonly);
  const bk = ident(roles.backup);
  return [
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${app}`,
    `GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${s} TO ${app}`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO ${ro}, ${bk}`,
    `GRANT SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${ro}, ${bk}`,
    // Routines an extension brings keep the extension's privileges: revoked from PUBLIC, pg_uuidv7's
    // uuid_generate_v7() and pg_trgm's operators would be out of the owner's and the migrator's reach.
    `DO $$ DECLARE r regprocedure; BEGIN
  FOR r IN SELECT p.oid FROM pg_proc p WHERE p.pronamespace = ${literal(schema)}::regnamespace
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e') LOOP
    EXECUTE format('REVOKE EXECUTE ON ROUTINE %s FROM PUBLIC', r);
  END LOOP;
END $$`,
    `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${s} TO ${app}, ${ro}`,
    `DO $$ BEGIN
  IF to_regclass(${literal(schema + '._sqlx_migrations')}) IS NOT NULL THEN
    EXECUTE format('REVOKE ALL ON TABLE %I._sqlx_migrations FROM %I', ${literal(schema)}, ${literal(roles.app)});
  END IF;
END $$`,
  ];
}

/** Extensions that need more than the owner role may have; created by the administrator when offered. */
export const PRIVILEGED_EXTENSIONS = ['pg_uuidv7'] as const;

export function privilegedExtensionStatement(ext: string, schema = 'public'): string {
  return `DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_available_extensions WHERE name = ${literal(ext)})
     AND NOT EXISTS (SELECT FROM pg_extension WHERE extname = ${literal(ext)}) THEN
    EXECUTE format('CREATE EXTENSION %I SCHEMA %I', ${literal(ext)}, ${literal(schema)});
  END IF;
END $$`;
}
