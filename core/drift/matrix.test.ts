import { beforeAll, describe, expect, it } from 'vitest';
import { roleNames, type RoleNames } from '../config/role-names.ts';
import type { ConnectionSettings } from '../db/url.ts';
import { readMigrations, type Migration } from '../migrations/files.ts';
import { MIGRATIONS_DIR } from '../paths.ts';
import { pgAdmin, provisionDatabase, withSql } from '../../test/db.ts';
import { detectDrift } from './detect.ts';
import { diffSnapshots } from './diff.ts';
import type { DriftFinding, Snapshot } from './model.ts';
import { withReference } from './reference.ts';
import { readSnapshot } from './snapshot.ts';

/**
 * Issue 16's matrix: each row makes one change by hand on a migrated database and expects
 * exactly one finding of the right kind; a clean database gives none. Where the fix text
 * gives the SQL that puts the database back, running it must leave no drift at all.
 */

const MIGRATIONS = readMigrations(MIGRATIONS_DIR);

/** Our migrations with pg_trgm pinned to an older version, so a live database can be a version ahead. */
const PINNED_TRGM: Migration[] = MIGRATIONS.map((m) =>
  m.version === 1n ? { ...m, sql: m.sql.replace('CREATE EXTENSION IF NOT EXISTS pg_trgm;', "CREATE EXTENSION IF NOT EXISTS pg_trgm VERSION '1.5';") } : m,
);

async function snapshotOf(c: ConnectionSettings, roles: RoleNames): Promise<Snapshot> {
  return withSql(c, (sql) => readSnapshot(sql, { roles }));
}

async function referenceSnapshot(migrations: readonly Migration[]): Promise<Snapshot> {
  return withReference({ kind: 'local', admin: pgAdmin(), database: 'matrix', major: 17, migrations }, (ref) => snapshotOf(ref.connection, ref.roles));
}

/** The SQL that puts the database back: carried by the finding, and the same SQL its fix text quotes. */
function revertSql(f: DriftFinding): string {
  const m = /or put the database back: `(.*)`\. Drift is never fixed automatically\.$/s.exec(f.fix);
  if (!m) throw new Error(`fix text without a way back: ${f.fix}`);
  expect(f.restoreSql).toBe(m[1]);
  return f.restoreSql!;
}

interface Row {
  name: string;
  /** Statements run as the superuser; `{owner}`, `{app}`, `{readonly}` are the database's roles. */
  change: string[];
  expect: { kind: DriftFinding['kind']; objectType: DriftFinding['objectType']; object: string; fields: string[]; message?: RegExp };
  /** Whether the fix text's way back is SQL to run (not a sentence). */
  revertable: boolean;
  migrations?: readonly Migration[];
}

const ROWS: Row[] = [
  {
    name: 'extra table',
    change: ['SET ROLE {owner}', 'CREATE TABLE incident_notes (id bigserial PRIMARY KEY, note text NOT NULL)', 'CREATE INDEX ON incident_notes (note)'],
    expect: { kind: 'extra', objectType: 'table', object: 'public.incident_notes', fields: [], message: /created outside migrations/ },
    revertable: true,
  },
  {
    name: 'extra index',
    change: ['CREATE INDEX ON users (created_at)'],
    expect: { kind: 'extra', objectType: 'index', object: 'public.users_created_at_idx', fields: [] },
    revertable: true,
  },
  {
    name: 'dropped index',
    change: ['DROP INDEX phrases_created_by_idx'],
    expect: { kind: 'missing', objectType: 'index', object: 'public.phrases_created_by_idx', fields: [] },
    revertable: true,
  },
  {
    name: 'column type changed',
    change: ['ALTER TABLE user_external_logins ALTER COLUMN provider_email TYPE varchar(320)'],
    expect: { kind: 'changed', objectType: 'column', object: 'public.user_external_logins.provider_email', fields: ['type'], message: /type changed from text to character varying\(320\)/ },
    revertable: true,
  },
  {
    name: 'column default changed',
    change: ["ALTER TABLE user_profiles ALTER COLUMN avatar_url SET DEFAULT 'x'"],
    expect: { kind: 'changed', objectType: 'column', object: 'public.user_profiles.avatar_url', fields: ['default'], message: /^public\.user_profiles\.avatar_url: default changed from none to 'x'::text$/ },
    revertable: true,
  },
  {
    name: 'column nullability changed',
    change: ['ALTER TABLE user_profiles ALTER COLUMN bio SET NOT NULL'],
    expect: { kind: 'changed', objectType: 'column', object: 'public.user_profiles.bio', fields: ['nullable'], message: /nullable changed from NULL to NOT NULL/ },
    revertable: true,
  },
  {
    name: 'function body replaced',
    change: ['SET ROLE {owner}', 'CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$'],
    expect: { kind: 'changed', objectType: 'function', object: 'public.set_updated_at()', fields: ['body'], message: /body replaced/ },
    revertable: true,
  },
  {
    name: 'trigger disabled',
    change: ['ALTER TABLE users DISABLE TRIGGER users_set_updated_at'],
    expect: { kind: 'changed', objectType: 'trigger', object: 'users_set_updated_at on public.users', fields: ['enabled'], message: /enabled changed from enabled to disabled/ },
    revertable: true,
  },
  {
    name: 'extra grant to the app role',
    change: ['GRANT TRUNCATE ON users TO {app}'],
    expect: { kind: 'changed', objectType: 'table', object: 'public.users', fields: ['privileges'], message: /_app gained TRUNCATE$/ },
    revertable: true,
  },
  {
    name: 'revoked grant',
    change: ['REVOKE SELECT ON phrases FROM {readonly}'],
    expect: { kind: 'changed', objectType: 'table', object: 'public.phrases', fields: ['privileges'], message: /_readonly lost SELECT$/ },
    revertable: true,
  },
  {
    name: 'column grant to the app role',
    change: ['GRANT UPDATE (password_hash) ON user_credentials TO {readonly}'],
    expect: { kind: 'changed', objectType: 'column', object: 'public.user_credentials.password_hash', fields: ['privileges'], message: /_readonly gained UPDATE$/ },
    revertable: true,
  },
  {
    name: 'owner changed',
    change: ['ALTER TABLE user_roles OWNER TO postgres'],
    expect: { kind: 'changed', objectType: 'table', object: 'public.user_roles', fields: ['owner'], message: /owner changed from \S+_owner to postgres$/ },
    revertable: true,
  },
  {
    name: 'default privileges changed',
    change: ['ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT TRUNCATE ON TABLES TO {app}'],
    expect: { kind: 'changed', objectType: 'default privileges', object: 'default privileges of {owner} on tables in schema public', fields: ['privileges'], message: /_app gained TRUNCATE$/ },
    revertable: true,
  },
  {
    name: 'extension version changed',
    change: ["ALTER EXTENSION pg_trgm UPDATE TO '1.6'"],
    expect: { kind: 'changed', objectType: 'extension', object: 'pg_trgm', fields: ['version'], message: /version changed from 1\.5 to 1\.6/ },
    // pg_trgm has no downgrade script: the way back is the extension's to give, not ours.
    revertable: false,
    migrations: PINNED_TRGM,
  },
  {
    name: 'RLS enabled',
    change: ['ALTER TABLE phrases ENABLE ROW LEVEL SECURITY'],
    expect: { kind: 'changed', objectType: 'table', object: 'public.phrases', fields: ['row level security'], message: /row level security changed from disabled to enabled/ },
    revertable: true,
  },
  {
    name: 'policy added',
    change: ['CREATE POLICY phrases_authored ON phrases FOR SELECT TO {app} USING (created_by IS NOT NULL)'],
    expect: { kind: 'extra', objectType: 'policy', object: 'phrases_authored on public.phrases', fields: [] },
    revertable: true,
  },
  {
    name: 'role membership added',
    change: ['GRANT {readonly} TO {app}'],
    expect: { kind: 'extra', objectType: 'role membership', object: 'membership of {app} in {readonly}', fields: [] },
    revertable: true,
  },
];

const fill = (text: string, roles: RoleNames) => text.replace(/\{(owner|app|readonly|migrator|backup)\}/g, (_m, k: keyof RoleNames) => roles[k]);

describe('schema drift matrix (one hand-made change, one finding)', () => {
  const references = new Map<readonly Migration[], Snapshot>();
  beforeAll(async () => {
    references.set(MIGRATIONS, await referenceSnapshot(MIGRATIONS));
    references.set(PINNED_TRGM, await referenceSnapshot(PINNED_TRGM));
  });

  it('a clean database shows no drift, end to end, and the scratch reference is removed', async () => {
    const db = await provisionDatabase('drclean');
    const report = await detectDrift({ kind: 'local', admin: pgAdmin(), database: db.database, migrations: MIGRATIONS });
    expect(report.findings).toEqual([]);
    expect(report.reference.kind).toBe('scratch-database');
    expect(report.migrationsApplied).toBe(MIGRATIONS.length);
    expect(report.objects.live).toBeGreaterThan(100);
    expect(report.objects.reference).toBe(report.objects.live);
    const scratch = report.reference.database;
    const left = await withSql(pgAdmin(), (sql) => sql<{ n: number }[]>`
      select (select count(*)::int from pg_database where datname = ${scratch}) + (select count(*)::int from pg_roles where rolname like ${scratch + '\\_%'}) as n`);
    expect(left[0]!.n).toBe(0);
  });

  it('one hand-made change found end to end through detectDrift, with its field-level diff', async () => {
    const db = await provisionDatabase('drone');
    await withSql(db.as(), (sql) => sql.unsafe(`ALTER TABLE users ALTER COLUMN status SET DEFAULT 'suspended'`));
    const report = await detectDrift({ kind: 'local', admin: pgAdmin(), database: db.database, migrations: MIGRATIONS });
    expect(report.findings).toHaveLength(1);
    const f = report.findings[0]!;
    expect(f).toMatchObject({ kind: 'changed', objectType: 'column', object: 'public.users.status' });
    expect(f.fields).toEqual([{ field: 'default', expected: "'active'::text", actual: "'suspended'::text", description: "default changed from 'active'::text to 'suspended'::text" }]);
    expect(f.fix).toContain("or put the database back: `ALTER TABLE public.users ALTER COLUMN status SET DEFAULT 'active'::text;`.");
  });

  for (const row of ROWS) {
    it(row.name, async () => {
      const migrations = row.migrations ?? MIGRATIONS;
      const db = await provisionDatabase('drm', migrations);
      const roles = roleNames(db.database);
      await withSql(db.as(), async (sql) => {
        const conn = await sql.reserve();
        try {
          for (const s of row.change) await conn.unsafe(fill(s, roles));
        } finally {
          conn.release();
        }
      });
      const reference = references.get(migrations)!;
      const live = await snapshotOf(db.as(), roles);
      const findings = diffSnapshots(reference.objects, live.objects, live.roleNames);
      expect(findings.map((f) => `${f.kind} ${f.objectType} ${f.object}`)).toEqual([`${row.expect.kind} ${row.expect.objectType} ${fill(row.expect.object, roles)}`]);
      const f = findings[0]!;
      expect(f.fields.map((x) => x.field)).toEqual(row.expect.fields);
      if (row.expect.message) expect(f.message).toMatch(row.expect.message);
      expect(f.fix).toMatch(/^Either make it official with a migration.+, or put the database back: .+\. Drift is never fixed automatically\.$/s);
      if (row.revertable) {
        await withSql(db.as(), (sql) => sql.unsafe(revertSql(f)));
        const after = await snapshotOf(db.as(), roles);
        expect(diffSnapshots(reference.objects, after.objects, after.roleNames)).toEqual([]);
      }
    });
  }
});
