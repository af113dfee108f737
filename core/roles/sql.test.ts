import { describe, expect, it } from 'vitest';
import { roleNames } from '../config/role-names.ts';
import { clusterRoleStatements, objectGrantStatements, schemaStatements } from './sql.ts';
import { scramVerifier } from './scram.ts';
import { provisionDatabase, withSql } from '../../test/db.ts';

const roles = roleNames('shop');

describe('role SQL (pure)', () => {
  it('never puts a plain password in the statements, only the SCRAM verifier', () => {
    const v = scramVerifier('plain-password-123');
    const text = clusterRoleStatements({ database: 'shop', roles, appConnectionLimit: 10, verifiers: { app: v } }).join('\n');
    expect(text).not.toContain('plain-password-123');
    expect(text).toContain(`ALTER ROLE "shop_app" LOGIN CONNECTION LIMIT 10 PASSWORD '${v}'`);
  });

  it('leaves a role without a verifier with its current password', () => {
    const text = clusterRoleStatements({ database: 'shop', roles, appConnectionLimit: 10, verifiers: {} }).join('\n');
    expect(text).not.toMatch(/PASSWORD/);
  });

  it('formats verifiers as PostgreSQL stores them', () => {
    expect(scramVerifier('x', Buffer.alloc(16, 1), 4096)).toMatch(/^SCRAM-SHA-256\$4096:AQEBAQEBAQEBAQEBAQEBAQ==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
  });

  it('grants the app role DML only and fences the ledger off', () => {
    const text = [...schemaStatements(roles), ...objectGrantStatements(roles)].join('\n');
    expect(text).toMatch(/GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "shop_app"/);
    expect(text).not.toMatch(/GRANT [^;]*(TRUNCATE|REFERENCES|TRIGGER|CREATE)[^;]*"shop_app"/);
    expect(text).toMatch(/REVOKE ALL ON TABLE %I._sqlx_migrations FROM %I/);
  });
});

describe('role SQL (against PostgreSQL)', () => {
  it('strips powers someone granted by hand on the next setup', async () => {
    const db = await provisionDatabase('powers');
    await withSql(db.as(), (sql) => sql.unsafe(`ALTER ROLE "${db.report.roles.app}" CREATEDB CREATEROLE`));
    const { setupDatabase } = await import('../setup.ts');
    const { readMigrations } = await import('../migrations/files.ts');
    const { MIGRATIONS_DIR } = await import('../paths.ts');
    const { pgAdmin } = await import('../../test/db.ts');
    await setupDatabase({ admin: pgAdmin(), database: db.database, pool: { max: 10, min: 2, instances: 1 }, passwords: {}, migrations: readMigrations(MIGRATIONS_DIR) });
    const [r] = await withSql(db.as(), (sql) => sql`select rolcreatedb, rolcreaterole from pg_roles where rolname = ${db.report.roles.app}`);
    expect(r).toEqual({ rolcreatedb: false, rolcreaterole: false });
    // the role still logs in with its password: setup without passwords left it unchanged
    await withSql(db.as('app'), (sql) => sql`select 1`);
  });
});
