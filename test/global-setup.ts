import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../core/local/ports.ts';
import type { TestProject } from 'vitest/node';
import { LocalCluster } from '../core/local/cluster.ts';
import { linkInstalledTools } from './pg-tools.ts';

/**
 * One real PostgreSQL 17 for the whole run, from the embedded binaries, in a throwaway
 * folder on its own port. Test files each create their own databases on it.
 */
export default async function setup(project: TestProject) {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-test-'));
  const port = process.env.PGSTEWARD_TEST_PORT ? Number(process.env.PGSTEWARD_TEST_PORT) : await freePort();
  const cluster = await LocalCluster.open({ stateDir, port });
  await cluster.init();
  await cluster.start();
  // The backup tests run against this cluster as the local target (PGSTEWARD_HOME = stateDir):
  // with the 17 client tools linked in, they find pg_dump 17 as a user's target does. Without
  // them (npm run pg-tools not run) those tests fail with installedToolsBin's line.
  linkInstalledTools(stateDir, 17);
  project.provide('pg17', { stateDir, port, admin: cluster.adminSettings() });
  return async () => {
    await cluster.stop().catch(() => {});
    rmSync(stateDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    pg17: { stateDir: string; port: number; admin: import('../core/db/url.ts').ConnectionSettings };
  }
}
