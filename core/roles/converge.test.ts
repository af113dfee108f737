import { describe, expect, it } from 'vitest';
import { ident } from '../db/connect.ts';
import { readMigrations } from '../migrations/files.ts';
import { MIGRATIONS_DIR } from '../paths.ts';
import { setupDatabase, type SetupInput, type SetupReport } from '../setup.ts';
import { pgAdmin, provisionDatabase, uniqueName, withSql, type ProvisionedDatabase, sqlstateOf } from '../../test/db.ts';
import { runOne } from '../../checks/test-support.ts';
import { LOGIN_ROLES, type LoginRole } from '../config/role-names.ts';
import { generatePassword } from '../secrets.ts';
import { pg15Admin, provisionPg15 } from '../../test/pg15.ts';
import { connect } from '../db/connect.ts';
import { CLUSTER_SETUP_LOCK } from './converge.ts';

/**
 * setup-db converges every role to exactly the model, against a real PostgreSQL 17: each kind
 * of tampering, then setup, then the privileges check passes and the tampering is gone; a
 * second setup changes nothing and sends no DDL.
 */

const migrations = readMigrations(MIGRATIONS_DIR);

function setupOf(db: ProvisionedDatabase, extra: Partial<SetupInput> = {}): Promise<SetupReport> {
  return setupDatabase({ admin: pgAdmin(), database: db.database, pool: { max: 10, min: 2, instances: 1 }, passwords: db.passwords, migrations, ...extra });
}

/** The SQLSTATE a statement fails with as `role` (in a rolled-back transaction), or 'ok'. */
async function attempt(db: ProvisionedDatabase, role: LoginRole, statement: string): Promise<string> {
  return sqlstateOf(db.as(role), statement);
}

const asAdmin = (db: ProvisionedDatabase, text: string) => withSql(db.as(), (sql) => sql.unsafe(text));

/** Statements that change something; a converged setup sends none of them. */
const DDL = /^\s*(CREATE|ALTER|DROP|GRANT|REVOKE|REASSIGN|COMMENT|SECURITY|SET\s+ROLE|DO\b|TRUNCATE|INSERT|UPDATE|DELETE)/i;

describe('setup-db converges tampered roles back to the model', () => {
  it('removes every kind of tampering, says what it changed, and the privileges check passes', async () => {
    const db = await provisionDatabase('conv');
    const r = db.report.roles;
    const mallory = uniqueName('mallory');
    const marker = `/tmp/pgsteward-${db.database}-program`;

    // The tampering, each proven to work before setup runs again.
    await asAdmin(db, `GRANT pg_execute_server_program, pg_read_server_files TO ${ident(r.app)}`);
    expect(await attempt(db, 'app', `COPY (SELECT 1) TO PROGRAM 'cat > /dev/null'`)).toBe('ok');
    await asAdmin(db, `GRANT ${ident(r.owner)} TO ${ident(r.app)}`);
    expect(await attempt(db, 'app', `SET ROLE ${ident(r.owner)}; DROP TABLE phrases`)).toBe('ok');
    await asAdmin(db, `GRANT TRUNCATE ON users TO ${ident(r.app)}; GRANT CREATE ON SCHEMA public TO ${ident(r.app)}`);
    expect(await attempt(db, 'app', 'TRUNCATE user_roles')).toBe('ok');
    expect(await attempt(db, 'app', 'CREATE TABLE public.evil (id int)')).toBe('ok');
    await asAdmin(db, `ALTER ROLE ${ident(r.app)} VALID UNTIL '2031-01-01' CREATEDB CONNECTION LIMIT 99`);
    await asAdmin(db, `ALTER ROLE ${ident(r.app)} SET statement_timeout = '1s'; ALTER ROLE ${ident(r.app)} IN DATABASE ${ident(db.database)} SET search_path = evil, public`);
    await asAdmin(db, `REVOKE ${ident(r.owner)} FROM ${ident(r.migrator)}; GRANT ${ident(r.owner)} TO ${ident(r.migrator)} WITH ADMIN OPTION`);
    await asAdmin(db, `GRANT UPDATE (email) ON users TO ${ident(r.readonly)}; GRANT SELECT ON user_credentials TO PUBLIC`);
    await asAdmin(db, `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(r.owner)} IN SCHEMA public GRANT TRUNCATE ON TABLES TO ${ident(r.app)}`);
    await asAdmin(db, `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(r.owner)} GRANT EXECUTE ON FUNCTIONS TO PUBLIC`);
    await asAdmin(db, `ALTER TABLE phrases OWNER TO ${ident(r.app)}; GRANT EXECUTE ON FUNCTION set_updated_at() TO PUBLIC`);
    await asAdmin(db, `GRANT CREATE, TEMPORARY ON DATABASE ${ident(db.database)} TO ${ident(r.app)}; GRANT CONNECT ON DATABASE ${ident(db.database)} TO PUBLIC`);
    await asAdmin(db, `GRANT ALTER SYSTEM ON PARAMETER archive_command TO ${ident(r.app)}`);
    await asAdmin(db, `CREATE ROLE ${ident(mallory)}; GRANT USAGE ON SCHEMA public TO ${ident(mallory)}; GRANT TRIGGER ON users TO ${ident(mallory)} WITH GRANT OPTION; SET ROLE ${ident(mallory)}; GRANT TRIGGER ON users TO ${ident(r.app)}; RESET ROLE`);
    await asAdmin(db, `ALTER ROLE ${ident(r.owner)} LOGIN`);
    expect((await runOne('privileges', { connection: db.as() })).status).toBe('failed');

    const report = await setupOf(db);
    const lines = report.changes.map((c) => c.line);
    expect(lines).toEqual(
      expect.arrayContaining([
        `revoked membership of ${r.app} in pg_execute_server_program`,
        `revoked membership of ${r.app} in pg_read_server_files`,
        `revoked membership of ${r.app} in ${r.owner}`,
        `revoked ADMIN OPTION on the membership of ${r.migrator} in ${r.owner}`,
        `removed CREATEDB from ${r.app}`,
        `set CONNECTION LIMIT 10 on ${r.app} (was 99)`,
        expect.stringMatching(new RegExp(`^removed the expiry of ${r.app} \\(VALID UNTIL 2031-01-01`)),
        `removed the setting statement_timeout=1s from ${r.app}`,
        `removed the setting search_path=evil, public from ${r.app} in database ${db.database}`,
        `set NOLOGIN on ${r.owner}`,
        `revoked ALTER SYSTEM on parameter archive_command from ${r.app}`,
        `revoked CREATE, TEMPORARY on database ${db.database} from ${r.app}`,
        `revoked CONNECT on database ${db.database} from PUBLIC`,
        `revoked CREATE on schema public from ${r.app}`,
        `revoked TRUNCATE on table public.users from ${r.app}`,
        `revoked TRIGGER on table public.users from ${r.app} (granted by ${mallory})`,
        `revoked SELECT on table public.user_credentials from PUBLIC`,
        `revoked UPDATE on column email of table public.users from ${r.readonly}`,
        `revoked EXECUTE on function public.set_updated_at() from PUBLIC`,
        `revoked TRUNCATE on future tables of ${r.owner} in schema public from ${r.app}`,
        `revoked EXECUTE on future functions of ${r.owner} from PUBLIC`,
        `gave table public.phrases (owned by ${r.app}) to ${r.owner}`,
        `granted SELECT, INSERT, UPDATE, DELETE on table public.phrases to ${r.app}`,
      ]),
    );
    // The tampering is gone: the same attempts are refused now.
    expect(await attempt(db, 'app', `COPY (SELECT 1) TO PROGRAM 'cat > /dev/null'`)).toBe('42501');
    expect(await attempt(db, 'app', `COPY (SELECT 1) TO '${marker}'`)).toBe('42501');
    expect(await attempt(db, 'app', `SET ROLE ${ident(r.owner)}`)).toBe('42501');
    expect(await attempt(db, 'app', 'DROP TABLE phrases')).toBe('42501');
    expect(await attempt(db, 'app', 'TRUNCATE user_roles')).toBe('42501');
    expect(await attempt(db, 'app', 'TRUNCATE users')).toBe('42501');
    expect(await attempt(db, 'app', 'CREATE TABLE public.evil2 (id int)')).toBe('42501');
    expect(await attempt(db, 'app', 'CREATE TEMP TABLE t (id int)')).toBe('42501');
    expect(await attempt(db, 'readonly', `UPDATE users SET email = email`)).toBe('42501');
    expect(await attempt(db, 'app', 'SELECT count(*) FROM phrases')).toBe('ok');
    expect(await attempt(db, 'migrator', 'CREATE TABLE migrator_made (id int)')).toBe('ok');
    await withSql(db.as(), async (sql) => {
      const [app] = await sql`select rolcreatedb, rolconnlimit, rolvaliduntil is null or rolvaliduntil = 'infinity' as no_expiry,
        (select count(*)::int from pg_db_role_setting where setrole = r.oid) as settings from pg_roles r where rolname = ${r.app}`;
      expect(app).toEqual({ rolcreatedb: false, rolconnlimit: 10, no_expiry: true, settings: 0 });
      const [owner] = await sql`select rolcanlogin from pg_roles where rolname = ${r.owner}`;
      expect(owner!.rolcanlogin).toBe(false);
      const [m] = await sql`select admin_option, inherit_option, set_option from pg_auth_members where roleid = ${r.owner}::regrole and member = ${r.migrator}::regrole`;
      expect(m).toEqual({ admin_option: false, inherit_option: true, set_option: true });
      const [p] = await sql`select has_parameter_privilege(${r.app}, 'archive_command', 'ALTER SYSTEM') as alter_system`;
      expect(p!.alter_system).toBe(false);
    });
    const check = await runOne('privileges', { connection: db.as() });
    expect(check.findings).toEqual([]);
    expect(check.status).toBe('passed');

    // Converged: the next run changes nothing, sends no DDL at all, and needs no session but the database's own.
    const sent: string[] = [];
    const databases = new Set<string>();
    const again = await setupOf(db, { onQuery: (q, database) => (sent.push(q), databases.add(database)) });
    expect(again.changes).toEqual([]);
    expect(sent.filter((q) => DDL.test(q))).toEqual([]);
    expect(sent.length).toBeGreaterThan(0);
    expect([...databases]).toEqual([db.database]);
    expect(sent.some((q) => q.includes(`pg_try_advisory_lock(${CLUSTER_SETUP_LOCK})`))).toBe(false);
  });

  it('leaves passwords alone when none are given, and strips powers granted by hand', async () => {
    const db = await provisionDatabase('powers');
    await asAdmin(db, `ALTER ROLE ${ident(db.report.roles.app)} CREATEDB CREATEROLE`);
    // Role work goes through the maintenance database, under the cluster's setup lock.
    const databases = new Set<string>();
    const report = await setupOf(db, { passwords: {}, onQuery: (_q, database) => databases.add(database) });
    expect([...databases].sort()).toEqual([db.database, 'postgres'].sort());
    expect(report.changes.map((c) => c.line)).toEqual([`removed CREATEDB from ${db.report.roles.app}`, `removed CREATEROLE from ${db.report.roles.app}`]);
    for (const role of LOGIN_ROLES) await withSql(db.as(role), (sql) => sql`select 1`);
  });

  it('converges roles that existed before the database did (the pre-created app role of the issue)', async () => {
    const database = uniqueName('prer');
    const app = `${database}_app`;
    await withSql(pgAdmin(), (sql) => sql.unsafe(`CREATE ROLE ${ident(app)} LOGIN SUPERUSER VALID UNTIL '2030-01-01'; GRANT pg_execute_server_program TO ${ident(app)}; ALTER ROLE ${ident(app)} SET work_mem = '1GB'`));
    const passwords = Object.fromEntries(LOGIN_ROLES.map((x) => [x, generatePassword()])) as Record<LoginRole, string>;
    const report = await setupDatabase({ admin: pgAdmin(), database, pool: { max: 10, min: 2, instances: 1 }, passwords, migrations });
    expect(report.databaseCreated).toBe(true);
    expect(report.rolesCreated).not.toContain(app);
    expect(report.changes.filter((c) => c.scope === 'cluster').map((c) => c.line)).toEqual(
      expect.arrayContaining([`removed SUPERUSER from ${app}`, `revoked membership of ${app} in pg_execute_server_program`, `removed the setting work_mem=1GB from ${app}`, `set the password of ${app}`]),
    );
    const sqlState = await withSql({ ...pgAdmin(database), user: app, password: passwords.app }, async (sql) => {
      try {
        await sql.unsafe(`COPY (SELECT 1) TO PROGRAM 'cat > /dev/null'`);
        return 'ok';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    });
    expect(sqlState).toBe('42501');
  });
});

describe('setup-db converges on PostgreSQL 15 too (no per-grant INHERIT/SET, no GRANTED BY for roles)', () => {
  it('revokes memberships, settings and extra grants, then has nothing to do', async () => {
    const db = await provisionPg15('conv15');
    const r = { owner: `${db.database}_owner`, migrator: `${db.database}_migrator`, app: `${db.database}_app` };
    await withSql(db.admin, (sql) =>
      sql.unsafe(`GRANT pg_execute_server_program, ${ident(r.owner)} TO ${ident(r.app)}; ALTER ROLE ${ident(r.app)} SET work_mem = '64MB';
        GRANT TRUNCATE ON users TO ${ident(r.app)}; GRANT ${ident(r.owner)} TO ${ident(r.migrator)} WITH ADMIN OPTION`),
    );
    const setup = () => setupDatabase({ admin: pg15Admin(), database: db.database, pool: { max: 10, min: 2, instances: 1 }, passwords: db.passwords, migrations });
    expect((await setup()).changes.map((c) => c.line).sort()).toEqual(
      [
        `revoked membership of ${r.app} in pg_execute_server_program`,
        `revoked membership of ${r.app} in ${r.owner}`,
        `revoked ADMIN OPTION on the membership of ${r.migrator} in ${r.owner}`,
        `removed the setting work_mem=64MB from ${r.app}`,
        `revoked TRUNCATE on table public.users from ${r.app}`,
      ].sort(),
    );
    expect((await setup()).changes).toEqual([]);
    expect((await runOne('privileges', { connection: db.admin })).status).toBe('passed');
  });
});

describe('setup-db under concurrency', () => {
  it('8 setups at once on a brand-new database all succeed and apply each migration once, 10 rounds', { timeout: 240_000 }, async () => {
    for (let round = 0; round < 10; round++) {
      const database = uniqueName(`race${round}`);
      const passwords = Object.fromEntries(LOGIN_ROLES.map((x) => [x, generatePassword()])) as Record<LoginRole, string>;
      const runs = await Promise.allSettled(
        Array.from({ length: 8 }, () => setupDatabase({ admin: pgAdmin(), database, pool: { max: 10, min: 2, instances: 1 }, passwords, migrations })),
      );
      const failed = runs.filter((x) => x.status === 'rejected').map((x) => String((x as PromiseRejectedResult).reason));
      expect(failed, `round ${round}`).toEqual([]);
      const reports = runs.map((x) => (x as PromiseFulfilledResult<SetupReport>).value);
      expect(reports.filter((x) => x.databaseCreated)).toHaveLength(1);
      expect(reports.reduce((n, x) => n + x.migrations.applied.length, 0)).toBe(migrations.length);
      const ledger = await withSql(pgAdmin(database), (sql) => sql<{ version: bigint; n: number }[]>`select version, count(*)::int as n from _sqlx_migrations group by version order by version`);
      expect(ledger.map((l) => l.n)).toEqual(migrations.map(() => 1));
    }
  });

  it('waits for the role lock with a timeout, and names its holder when it runs out', async () => {
    const holder = connect(pgAdmin(), { max: 1, applicationName: 'stuck setup' });
    try {
      await holder.unsafe(`SELECT pg_advisory_lock(${CLUSTER_SETUP_LOCK})`);
      const passwords = Object.fromEntries(LOGIN_ROLES.map((x) => [x, generatePassword()])) as Record<LoginRole, string>;
      await expect(setupDatabase({ admin: pgAdmin(), database: uniqueName('locked'), pool: { max: 10, min: 2, instances: 1 }, passwords, migrations, lockTimeoutMs: 300 })).rejects.toThrow(
        /^timed out after 300 ms waiting for the setup lock on this server, held by pid \d+ \(stuck setup, user postgres, idle since /,
      );
    } finally {
      await holder.end({ timeout: 5 });
    }
  });
});
