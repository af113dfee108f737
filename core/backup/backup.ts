import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { OpsConfig } from '../config/ops-config.ts';
import { withAdvisoryLock } from '../db/advisory-lock.ts';
import { withConnection, type Sql } from '../db/connect.ts';
import { serverInfo, type ServerInfo } from '../db/server.ts';
import type { ConnectionSettings } from '../db/url.ts';
import { Interrupted, UserError, errorLine, interruptSignal, isUserError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { locateTool, type PgTool } from '../pgtools/invoke.ts';
import { startTool, toolFailure } from '../pgtools/run.ts';
import { scrub } from '../secrets.ts';
import type { Target } from '../open-target.ts';
import { backupName, uniqueBackupName } from './file-names.ts';
import { MANIFEST_FORMAT, type BackupManifest } from './manifest.ts';
import type { TransferProgress } from './progress.ts';
import { backupConnection, opsFor, placementFor, storageFor, type BackupAs } from './settings.ts';
import type { BackupStorage } from './storage/index.ts';
import { countRows, lastMigration, listTables } from './tables.ts';

export { backupConnection, opsFor, placementFor, storageFor } from './settings.ts';
export type { ServerInfo } from '../db/server.ts';

export interface BackupOptions {
  /** Added to the file name: `local-20261125T031500Z-pre-reset.dump`. */
  label?: string;
  /** Storage, retention and pg_dump placement; default: the config file. */
  ops?: OpsConfig;
  /** Overrides the storage the config names (tests, one-off copies). */
  storage?: BackupStorage;
  /** Who runs pg_dump (see BackupAs); default the backup role. */
  as?: BackupAs;
  logger?: Logger;
  onProgress?: (p: TransferProgress) => void;
  /** Aborting (with the signal's name as reason) kills pg_dump and removes the partial file. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface BackupResult {
  location: string;
  manifest: BackupManifest;
}

/** How long pg_dump and the row counts wait for a table lock before giving up, rather than hanging a cron job forever. */
export const LOCK_WAIT = '120s';

/**
 * Backups of one database choose their names one at a time, under this advisory lock on the
 * database itself: every backup of it talks to that server, whatever host or storage it runs
 * from, so four started in the same second get `-2`, `-3`, `-4` instead of colliding.
 */
export const BACKUP_NAME_LOCK = 0x7067_7374_6e61_6d65n; // "pgstname"
const NAME_LOCK_WAIT_MS = 30 * 60_000;

interface Preflight {
  server: ServerInfo;
  pgDump: PgTool;
  connection: ConnectionSettings;
}

function locatePgDump(server: ServerInfo, target: Target, opts: Pick<BackupOptions, 'ops' | 'env'>): PgTool {
  const env = opts.env ?? process.env;
  return locateTool('pg_dump', server.major, server.version, placementFor(opsFor(target, opts.ops, env)), env, { stateDir: target.config.stateDir });
}

/**
 * Everything that must hold before a backup starts: the server answers as the backup role
 * and a pg_dump at least as new as the server exists. Throws the one-line reason otherwise;
 * the cron job calls it on every run so a missing pg_dump is reported, not crashed on.
 */
export async function backupPreflight(target: Target, opts: Pick<BackupOptions, 'as' | 'ops' | 'env'> = {}): Promise<Preflight> {
  const connection = backupConnection(target, opts.as);
  const server = await withConnection(connection, { applicationName: 'pgsteward backup' }, serverInfo);
  return { server, pgDump: locatePgDump(server, target, opts), connection };
}

interface DumpRun {
  bytes: number;
  sha256: string;
}

/** Runs pg_dump -Fc into `file`, hashing and counting on the way; rejects with pg_dump's own reason. */
function runPgDump(tool: PgTool, conn: ConnectionSettings, snapshot: string, file: string, opts: { onProgress?: (p: TransferProgress) => void; signal?: AbortSignal; env: NodeJS.ProcessEnv }): { done: Promise<DumpRun>; kill: () => void } {
  const run = startTool(tool, ['--format=custom', `--snapshot=${snapshot}`, `--lock-wait-timeout=${LOCK_WAIT}`, '--no-password'], conn, { stdout: 'stream', signal: opts.signal, applicationName: 'pgsteward backup', env: opts.env });
  const hash = createHash('sha256');
  let bytes = 0;
  const started = Date.now();
  let lastTick = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      const now = Date.now();
      if (opts.onProgress && now - lastTick >= 200) {
        lastTick = now;
        opts.onProgress({ bytes, elapsedMs: now - started });
      }
      cb(null, chunk);
    },
  });
  const written = pipeline(run.stdout!, meter, createWriteStream(file, { flags: 'w', mode: 0o600, flush: true }));
  const done = (async () => {
    try {
      const [, exit] = await Promise.all([
        written.catch((e: unknown) => {
          run.kill();
          throw e;
        }),
        run.exit,
      ]);
      if (opts.signal?.aborted) throw interrupted(opts.signal);
      const failure = toolFailure('pg_dump', exit, 'nothing was stored; fix the cause and run the backup again', tool.path);
      if (failure) throw failure;
      opts.onProgress?.({ bytes, elapsedMs: Date.now() - started });
      return { bytes, sha256: hash.digest('hex') };
    } catch (e) {
      if (isUserError(e)) throw e;
      if (opts.signal?.aborted) throw interrupted(opts.signal);
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOSPC') throw new UserError(`no space left while writing ${file}`, 'free disk space or point the backup storage elsewhere');
      throw new UserError(`writing the dump failed: ${scrub(errorLine(e))}`, 'nothing was stored; fix the cause and run the backup again');
    }
  })();
  return { done, kill: run.kill };
}

function interrupted(signal: AbortSignal): Interrupted {
  return new Interrupted(interruptSignal(signal), `backup interrupted (${interruptSignal(signal)}); the partial dump was removed`, 'run the backup again');
}

/** pg_dump in an exported snapshot while the row counts and the migration version are read in that very snapshot. */
async function dumpInSnapshot(sql: Sql, pgDump: PgTool, connection: ConnectionSettings, staged: string, opts: BackupOptions & { env: NodeJS.ProcessEnv }) {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    await tx.unsafe(`set local lock_timeout = '${LOCK_WAIT}'`);
    await tx.unsafe(`set local idle_in_transaction_session_timeout = 0`);
    const [row] = await tx.unsafe<{ s: string }[]>('select pg_export_snapshot() as s');
    const dump = runPgDump(pgDump, connection, row!.s, staged, { onProgress: opts.onProgress, signal: opts.signal, env: opts.env });
    dump.done.catch(() => {});
    try {
      const counts = await countRows(tx, await listTables(tx));
      const migration = await lastMigration(tx);
      return { counts, migration, dump: await dump.done };
    } catch (e) {
      dump.kill();
      await dump.done.catch(() => {});
      throw e;
    }
  });
}

/**
 * Takes a backup: pg_dump custom format as the backup role, written under a temporary name,
 * fsynced and renamed, with a manifest beside it. Row counts and the migration version are
 * read in the very snapshot pg_dump dumps, so a restore can be compared with them exactly.
 * Fails before anything is written when no compatible pg_dump exists.
 */
export async function backupDatabase(target: Target, opts: BackupOptions = {}): Promise<BackupResult> {
  const env = opts.env ?? process.env;
  const log = opts.logger ?? silentLogger();
  const connection = backupConnection(target, opts.as);
  return withConnection(connection, { applicationName: 'pgsteward backup' }, async (sql) => {
    const server = await serverInfo(sql);
    const pgDump = locatePgDump(server, target, { ops: opts.ops, env });
    const storage = opts.storage ?? storageFor(target, opts.ops, env);
    const startedAt = new Date();
    log.info({ target: target.config.kind, database: target.config.database, storage: storage.location, server: server.version, pgDump: `${pgDump.version} (${pgDump.placement.kind})` }, 'backup started');
    if (target.config.kind === 'prod' && storage.kind === 'local') {
      log.warn({ storage: storage.location }, 'prod backups are going to a folder on this machine; configure backups.targets.prod.storage as an S3 bucket');
    }
    const staged = await storage.stage(backupName(target.config.kind, startedAt, opts.label));
    try {
      const snap = await dumpInSnapshot(sql, pgDump, connection, staged, { ...opts, env });
      if (opts.signal?.aborted) throw interrupted(opts.signal);
      const { location, manifest } = await withAdvisoryLock(sql, BACKUP_NAME_LOCK, { timeoutMs: NAME_LOCK_WAIT_MS, what: `the backup-name lock on database ${target.config.database}` }, async () => {
        const name = await uniqueBackupName(target.config.kind, startedAt, opts.label, (n) => storage.exists(n));
        const manifest: BackupManifest = {
          format: MANIFEST_FORMAT,
          name,
          target: target.config.kind,
          database: target.config.database,
          roles: target.roles,
          label: opts.label,
          server,
          pgDump: { version: pgDump.version, major: pgDump.major, placement: pgDump.placement.kind },
          lastMigration: snap.migration,
          bytes: snap.dump.bytes,
          sha256: snap.dump.sha256,
          startedAt: startedAt.toISOString(),
          finishedAt: new Date().toISOString(),
          tables: snap.counts,
          verified: false,
          verification: null,
        };
        return { location: await storage.commit(staged, manifest), manifest };
      });
      const rows = Object.values(snap.counts).reduce((a, b) => a + b, 0);
      log.info({ backup: manifest.name, location, bytes: manifest.bytes, sha256: manifest.sha256, tables: Object.keys(snap.counts).length, rows, durationMs: Date.parse(manifest.finishedAt) - startedAt.getTime() }, 'backup finished');
      return { location, manifest };
    } catch (e) {
      await storage.discard(staged).catch(() => {});
      if (isUserError(e)) throw e;
      if (opts.signal?.aborted) throw interrupted(opts.signal);
      const err = e as { code?: string; message?: string };
      if (err.code === '55P03') throw new UserError(`backup gave up waiting ${LOCK_WAIT} for a table lock`, 'a long migration or maintenance job holds one; run the backup again later');
      if (err.code === '42501') throw new UserError(`the backup role cannot read everything: ${scrub(err.message ?? '')}`, 'run setup-db to re-apply the grants');
      throw e;
    }
  });
}
