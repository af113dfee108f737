import { beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, pgAdmin } from '../../test/db.ts';
import { fixtureDatabase, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';

describe('privileges', () => {
  let r: CheckResult;
  let db: string;
  beforeAll(async () => {
    const { connection, database } = await fixtureDatabase(new URL('./privileges.fixture.sql', import.meta.url));
    db = database;
    r = await runOne('privileges', { connection, expectations: { probeRows: { 'public.accounts': { id: '1', name: 'probe' } } } });
  });

  const finding = (re: RegExp) => r.findings.find((f) => re.test(f.message));

  it('fails and names the roles and objects at fault', () => {
    expect(r.status).toBe('failed');
    expect(objects(r)).toEqual(expect.arrayContaining([`${db}_app`, 'PUBLIC on schema public', 'public.accounts', `${db}_app: table public.app_scratch`]));
  });

  it('finds powers, a missing connection limit, extra grants, ownership and a writing read-only role', () => {
    expect(finding(/has CREATEDB/)!.fix).toBe(`ALTER ROLE ${db}_app NOCREATEDB;`);
    expect(finding(/no connection limit; the pool budget is 10/)!.fix).toBe(`ALTER ROLE ${db}_app CONNECTION LIMIT 10;`);
    expect(finding(/holds TRUNCATE on public\.accounts/)!.fix).toBe(`REVOKE TRUNCATE ON public.accounts FROM ${db}_app;`);
    expect(finding(/owns table public\.app_scratch/)!.fix).toBe(`REASSIGN OWNED BY ${db}_app TO ${db}_owner;`);
    expect(finding(/read-only role .*_readonly holds INSERT on public\.accounts/)).toBeTruthy();
    expect(finding(/^PUBLIC \(every role\) can CREATE in schema public/)!.fix).toBe('REVOKE CREATE ON SCHEMA public FROM PUBLIC;');
  });

  it('without a probe row, says the write probe was skipped instead of failing', async () => {
    const bare = await runOne('privileges', { connection: pgAdmin(db), expectations: { probeRows: {} } });
    expect(bare.passed).toContain("the roles' write and read probe skipped, no table has a row in checks.probeRows (table grants checked by catalog alone)");
    expect(bare.findings.some((f) => /INSERT INTO public\.accounts succeeded/.test(f.message))).toBe(false);
    expect(r.passed.some((p) => p.includes('probe skipped'))).toBe(false);
  });

  it('proves it by acting as each role in a rolled-back probe', () => {
    expect(finding(new RegExp(`^${db}_app: CREATE TABLE in schema public succeeded`))).toBeTruthy();
    expect(finding(new RegExp(`^${db}_app: TRUNCATE public\\.accounts succeeded`))).toBeTruthy();
    expect(finding(new RegExp(`^${db}_readonly: INSERT INTO public\\.accounts succeeded`))).toBeTruthy();
    expect(r.passed).toEqual(expect.arrayContaining([`${db}_app: DROP TABLE public.accounts is refused (42501)`, `${db}_app: can insert into and read public.accounts`]));
  });
});

describe('privileges on a database pgsteward did not set up', () => {
  it('names the missing roles and points to the adoption guide, never to our setup', async () => {
    const database = await createDatabase('ckpriv');
    const r = await runOne('privileges', { connection: pgAdmin(database) });
    const missing = r.findings.filter((f) => /does not exist$/.test(f.message));
    expect(missing.map((f) => f.object).sort()).toEqual(['app', 'backup', 'migrator', 'owner', 'readonly'].map((k) => `${database}_${k}`).sort());
    for (const f of missing) {
      expect(f.fix).not.toContain('npm run setup-db');
      expect(f.fix).toMatch(/^this database has no _sqlx_migrations ledger and none of the \w+_\* roles, so pgsteward has not set it up: .*docs\/adopting-sqlx\.md/);
    }
  });
});
