import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../local/cluster.ts';
import { freePort } from '../local/ports.ts';
import { readMigrations } from '../migrations/files.ts';
import { MIGRATIONS_DIR } from '../paths.ts';
import { generatePassword } from '../secrets.ts';
import { setupDatabase } from '../setup.ts';
import { inject } from 'vitest';
import { withSql } from '../../test/db.ts';
import { detectDrift, type DriftReport } from './detect.ts';

/**
 * A prod-like target: a second cluster reached by an admin URL, as `--url` gives it. The
 * reference must be built somewhere else (an ephemeral cluster), and the target must see
 * nothing but reads. The target logs every statement and connection, so a write, a CREATE
 * DATABASE or a visit to its maintenance database would be on record.
 */

const MIGRATIONS = readMigrations(MIGRATIONS_DIR);
const DATABASE = 'shop';

/** `LOG:  statement: …` and `LOG:  execute s1: …` entries of a server log (continuation lines included), as statement texts. */
export function loggedStatements(log: string): string[] {
  const entries = log.split(/\n(?=\d{4}-\d\d-\d\d )/);
  const out: string[] = [];
  for (const entry of entries) {
    const m = /LOG:\s+(?:statement|execute [^:]*):\s([\s\S]*)$/.exec(entry);
    if (m) out.push(m[1]!.trim());
  }
  return out;
}

const READ = /^(select|with|show|begin isolation level repeatable read read only|set local search_path = pg_catalog|commit)\b/i;

describe('a prod target (a second cluster, by URL)', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-drift-prodtest-'));
  let prod: LocalCluster;
  let drifted = '';
  let report: DriftReport;
  const sentToLive: string[] = [];
  let before: { databases: string[]; roles: string[] };

  const catalogState = () =>
    withSql(prod.adminSettings(), async (sql) => ({
      databases: (await sql<{ d: string }[]>`select datname::text as d from pg_database order by 1`).map((r) => r.d),
      roles: (await sql<{ r: string }[]>`select rolname::text as r from pg_roles order by 1`).map((r) => r.r),
    }));

  beforeAll(async () => {
    prod = await LocalCluster.open({ stateDir: root, dataDir: path.join(root, 'pg'), port: await freePort() });
    await prod.init();
    appendFileSync(path.join(prod.dataDir, 'postgresql.conf'), "\nlog_statement = 'all'\nlog_connections = on\n");
    await prod.start();
    await setupDatabase({ admin: prod.adminSettings(), database: DATABASE, pool: { max: 10, min: 2, instances: 1 }, passwords: { migrator: generatePassword() }, migrations: MIGRATIONS });
    // The one change made by hand on "prod".
    await withSql(prod.adminSettings(DATABASE), (sql) => sql.unsafe('CREATE INDEX users_status_idx ON users (status)'));
    before = await catalogState();
    const logFrom = statSync(prod.logFile).size;
    report = await detectDrift({ kind: 'prod', admin: prod.adminSettings(), database: DATABASE, migrations: MIGRATIONS, onLiveQuery: (t) => sentToLive.push(t) });
    // What the target logged while drift ran, and nothing after.
    drifted = readFileSync(prod.logFile, 'utf8').slice(logFrom);
  }, 180_000);

  afterAll(async () => {
    await prod?.stop().catch(() => {});
    rmSync(root, { recursive: true, force: true });
  });

  it('finds the one hand-made change', () => {
    expect(report.findings.map((f) => [f.kind, f.objectType, f.object])).toEqual([['extra', 'index', 'public.users_status_idx']]);
  });

  it('built the reference on an ephemeral cluster of the same major, elsewhere, and removed it', () => {
    expect(report.reference.kind).toBe('ephemeral-cluster');
    if (report.reference.kind !== 'ephemeral-cluster') return;
    expect(report.reference.port).not.toBe(prod.port);
    expect(report.reference.port).not.toBe(inject('pg17').port);
    expect(report.reference.version).toMatch(/^17\./);
    expect(report.reference.dataDir.startsWith(root)).toBe(false);
    expect(existsSync(report.reference.dataDir)).toBe(false);
  });

  it('left the target\'s databases and roles exactly as they were', async () => {
    expect(await catalogState()).toEqual(before);
  });

  it('sent the target nothing but reads, and connected only to the database under check', () => {
    const statements = loggedStatements(drifted);
    expect(statements.length).toBeGreaterThan(15);
    expect(statements.filter((s) => !READ.test(s))).toEqual([]);
    expect(sentToLive.length).toBe(statements.length);
    expect(sentToLive.filter((s) => !READ.test(s.trim()))).toEqual([]);
    const connections = [...drifted.matchAll(/connection authorized: user=\S+ database=(\S+)/g)].map((m) => m[1]);
    expect(connections.length).toBeGreaterThan(0);
    expect(connections.filter((d) => d !== DATABASE)).toEqual([]);
  });
});
