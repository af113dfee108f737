import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { LocalCluster } from '../local/cluster.ts';
import { freePort } from '../local/ports.ts';
import { isAbandoned, markerForThisRun, parseMarker } from '../db/scratch-marker.ts';
import { pidAlive } from '../processes.ts';

/**
 * A throwaway PostgreSQL cluster from the embedded binaries (or LOCAL_PG_BIN), in a temp
 * folder on a free loopback port: where the reference of a prod database is built, since
 * nothing is ever created on prod. The folder carries a marker naming this process, so the
 * next run stops and removes a cluster a SIGKILL left running.
 */

export const EPHEMERAL_PREFIX = 'pgsteward-drift-reference-';
const MARKER_FILE = 'pgsteward-scratch.txt';

export interface EphemeralCluster {
  cluster: LocalCluster;
  root: string;
  /** Stops the server and deletes the folder; safe to call twice. */
  remove(): Promise<void>;
}

async function removeCluster(cluster: LocalCluster, root: string): Promise<void> {
  await cluster.stop().catch(async () => {
    // pg_ctl failed (a half-started server, say): end the postmaster by its pid file.
    const pid = Number(readFileSync(path.join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (pid > 0) process.kill(pid, 'SIGQUIT');
  }).catch(() => {});
  rmSync(root, { recursive: true, force: true });
}

/**
 * Starts the cluster. `major` is the live server's: a reference from another major would
 * differ in ways that are not drift (catalog defaults, deparsing), so that is refused.
 */
export async function startEphemeralCluster(opts: { major: number; binDir?: string | undefined; tempRoot?: string | undefined; onCreated?: (root: string) => void }): Promise<EphemeralCluster> {
  const root = mkdtempSync(path.join(opts.tempRoot ?? os.tmpdir(), EPHEMERAL_PREFIX));
  writeFileSync(path.join(root, MARKER_FILE), markerForThisRun('drift reference cluster'));
  opts.onCreated?.(root);
  let cluster: LocalCluster | undefined;
  try {
    const probe = await LocalCluster.open({ stateDir: root, binDir: opts.binDir, dataDir: path.join(root, 'pg'), port: 1 });
    if (probe.bins.major !== opts.major) {
      throw new UserError(
        `the live server is PostgreSQL ${opts.major} but the local binaries are ${probe.bins.version}`,
        `set LOCAL_PG_BIN to a PostgreSQL ${opts.major} bin folder, so the reference is built on the same major version`,
      );
    }
    await probe.init();
    // A free port can be taken between finding it and binding it: try a few.
    for (let attempt = 1; ; attempt++) {
      cluster = await LocalCluster.open({ stateDir: root, binDir: opts.binDir, dataDir: path.join(root, 'pg'), port: await freePort() });
      try {
        await cluster.start();
        break;
      } catch (e) {
        if (attempt >= 3) throw e;
      }
    }
  } catch (e) {
    if (cluster) await removeCluster(cluster, root);
    else rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const started = cluster;
  let removal: Promise<void> | undefined;
  return { cluster: started, root, remove: () => (removal ??= removeCluster(started, root)) };
}

/** Stops and deletes ephemeral clusters whose run is gone; returns their folders. */
export async function sweepAbandonedClusters(tempRoot = os.tmpdir(), here = { host: os.hostname(), now: new Date(), alive: pidAlive }): Promise<string[]> {
  const swept: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(tempRoot).filter((e) => e.startsWith(EPHEMERAL_PREFIX));
  } catch {
    return swept;
  }
  for (const entry of entries) {
    const root = path.join(tempRoot, entry);
    const markerFile = path.join(root, MARKER_FILE);
    if (!existsSync(markerFile)) continue;
    const marker = parseMarker(readFileSync(markerFile, 'utf8'));
    if (!marker || !isAbandoned(marker, here)) continue;
    const dataDir = path.join(root, 'pg');
    const pidFile = path.join(dataDir, 'postmaster.pid');
    if (existsSync(pidFile)) {
      const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      if (postmaster > 0 && pidAlive(postmaster)) {
        // Immediate shutdown: nothing in a reference cluster is worth a checkpoint.
        process.kill(postmaster, 'SIGQUIT');
        for (let i = 0; i < 100 && pidAlive(postmaster); i++) await new Promise((r) => setTimeout(r, 50));
      }
    }
    rmSync(root, { recursive: true, force: true });
    swept.push(root);
  }
  return swept;
}
