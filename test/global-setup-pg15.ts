import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { LocalCluster } from '../core/local/cluster.ts';
import { freePort } from '../core/local/ports.ts';

/** Debian's PostgreSQL 15, for the tests about crossing versions (a 15 dump into 17, pg_dump 15 refused by 17) and setup-db on a 15 server. */
export const PG15_BIN = process.env.PGSTEWARD_TEST_PG15_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A second real PostgreSQL, from the system's version-15 binaries, for the tests where
 * versions cross: a dump by pg_dump 15 of a 15 server restored into the suite's 17, and
 * setup-db on a 15 server. Backup, restore, verify and cron tests run on 17. Missing binaries
 * fail the run loudly instead of skipping tests.
 */
export default async function setup(project: TestProject) {
  if (!existsSync(path.join(PG15_BIN, 'postgres')) || !existsSync(path.join(PG15_BIN, 'pg_dump'))) {
    throw new Error(`PostgreSQL 15 binaries not found in ${PG15_BIN}: apt-get install postgresql-15 (or set PGSTEWARD_TEST_PG15_BIN)`);
  }
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-test15-'));
  const port = await freePort();
  const cluster = await LocalCluster.open({ stateDir, binDir: PG15_BIN, port });
  await cluster.init();
  await cluster.start();
  project.provide('pg15', { stateDir, port, binDir: PG15_BIN, admin: cluster.adminSettings() });
  return async () => {
    await cluster.stop().catch(() => {});
    rmSync(stateDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The PostgreSQL 15 cluster: its state folder (PGSTEWARD_HOME for CLI runs; no client tools installed there), port, binaries and superuser settings. */
    pg15: { stateDir: string; port: number; binDir: string; admin: import('../core/db/url.ts').ConnectionSettings };
  }
}
