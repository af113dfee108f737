import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleNames } from '../config/role-names.ts';
import { ident } from '../db/connect.ts';
import type { ConnectionSettings } from '../db/url.ts';
import { parseMigrations, readMigrations, type Migration } from '../migrations/files.ts';
import { MIGRATIONS_DIR } from '../paths.ts';
import { libpqEnv } from '../pgtools/invoke.ts';
import { convergeCluster } from '../roles/converge.ts';
import { roleModel } from '../roles/model.ts';
import { installedToolsBin } from '../../test/pg-tools.ts';
import { pgAdmin, provisionDatabase, uniqueName, withSql, type ProvisionedDatabase } from '../../test/db.ts';
import { compareDatabases } from './detect.ts';
import { withReference } from './reference.ts';

const run = promisify(execFile);

/** Our migrations plus one with every kind of object the snapshot reads. */
export function everyKindMigrations(): Migration[] {
  const file = '9001_every_object_kind.sql';
  const fixture = parseMigrations([{ name: file, bytes: readFileSync(path.join(import.meta.dirname, 'fixtures', file)) }]);
  return [...readMigrations(MIGRATIONS_DIR), ...fixture];
}

async function pgTool(bin: string, tool: string, args: string[], c: ConnectionSettings): Promise<void> {
  await run(path.join(bin, tool), args, { env: { ...process.env, ...libpqEnv(c, 'pgsteward drift test') }, maxBuffer: 16 << 20 });
}

describe('normalization: what is not drift', () => {
  const migrations = everyKindMigrations();
  const work = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-drift-dump-'));
  let db: ProvisionedDatabase;
  beforeAll(async () => {
    db = await provisionDatabase('drdump', migrations);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('the same migrations built again in a scratch database, with other role names, show no drift', async () => {
    const roles = roleNames(db.database);
    const result = await withReference({ kind: 'local', admin: pgAdmin(), database: db.database, major: 17, migrations }, (ref) =>
      compareDatabases({ connection: db.as(), roles }, { connection: ref.connection, roles: ref.roles }),
    );
    // The fixture's kinds all made it into the snapshot, so "no findings" is not "nothing read".
    const types = new Set([...result.live.objects.values()].map((o) => o.type));
    for (const t of ['type', 'schema', 'view', 'materialized view', 'sequence', 'procedure', 'policy', 'trigger', 'index', 'constraint'] as const) expect(types, t).toContain(t);
    expect(result.reference.objects.size).toBe(result.live.objects.size);
    expect(result.findings).toEqual([]);
  });

  it('a dump-and-restore of a clean database shows no drift (pg_dump/pg_restore 17)', async () => {
    const bin = installedToolsBin(17);
    const roles = roleNames(db.database);
    const file = path.join(work, 'clean.dump');
    await pgTool(bin, 'pg_dump', ['-Fc', '-f', file], db.as());
    // Restored the way restore-db does: the database created with the original's roles, then pg_restore into it.
    const restored = uniqueName('drrest');
    await withSql(pgAdmin(), async (sql) => {
      await convergeCluster(sql, roleModel({ database: restored, roles, appConnectionLimit: 10 }), { passwords: {} });
    });
    try {
      await pgTool(bin, 'pg_restore', ['--exit-on-error', '--single-transaction', `--dbname=${restored}`, file], pgAdmin(restored));
      const result = await compareDatabases({ connection: pgAdmin(restored), roles }, { connection: db.as(), roles });
      expect([...result.live.objects.keys()].filter((k) => !result.reference.objects.has(k))).toEqual([]);
      expect([...result.reference.objects.keys()].filter((k) => !result.live.objects.has(k))).toEqual([]);
      expect(result.live.objects.size).toBe(result.reference.objects.size);
      expect(result.live.objects.size).toBeGreaterThan(150);
      expect(result.findings).toEqual([]);
    } finally {
      await withSql(pgAdmin(), (sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${ident(restored)} WITH (FORCE)`));
    }
  });
});
