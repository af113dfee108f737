import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { loadOpsConfig, type OpsConfig, type TargetOpsConfig } from '../config/ops-config.ts';
import { connectChecked, type Sql } from '../db/connect.ts';
import type { ConnectionSettings } from '../db/url.ts';
import { UserError, isUserError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { REPO_ROOT } from '../paths.ts';
import { invocation, locateTool, type PgTool, type ToolPlacement } from '../pgtools/invoke.ts';
import { scrub } from '../secrets.ts';
import { adminConnection, rolePassword, type Target } from '../open-target.ts';
import { MANIFEST_FORMAT, type BackupManifest } from './manifest.ts';
import { uniqueBackupName } from './names.ts';
import type { TransferProgress } from './progress.ts';
import { openStorage, type BackupStorage } from './storage/index.ts';
import { countRows, lastMigration, listTables } from './tables.ts';

export interface BackupOptions {
  /** Added to the file name: `local-20261125T031500Z-pre-reset.dump`. */
  label?: string;
  /** Storage, retention and pg_dump placement; default: the config file. */
  ops?: OpsConfig;
  /** Overrides the storage the config names (tests, one-off copies). */
  storage?: BackupStorage;
  /**
   * Who runs pg_dump: the least-privilege backup role (default); `admin`; or `auto`, the
   * backup role when its password is known and the administrator otherwise (safety backups).
   */
  as?: 'backup' | 'admin' | 'auto';
  logger?: Logger;
  onProgress?: (p: TransferProgress) => void;
  /** Aborting kills pg_dump and removes the partial file. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface BackupResult {
  location: string;
  manifest: BackupManifest;
}

export interface ServerInfo {
  version: string;
  versionNum: number;
  major: number;
}

/** How long pg_dump and the row counts wait for a table lock before giving up, rather than hanging a cron job forever. */
export const LOCK_WAIT = '120s';

export function opsFor(target: Target, ops?: OpsConfig, env: NodeJS.ProcessEnv = process.env): TargetOpsConfig {
  const cfg = ops ?? loadOpsConfig({ env, repoRoot: REPO_ROOT, stateDir: target.config.stateDir });
  return cfg.targets[target.config.kind];
}

export function storageFor(target: Target, ops?: OpsConfig, env: NodeJS.ProcessEnv = process.env): BackupStorage {
  return openStorage(opsFor(target, ops, env), { kind: target.config.kind, database: target.config.database, stateDir: target.config.stateDir });
}

export function placementFor(t: TargetOpsConfig): ToolPlacement {
  return t.docker ? { kind: 'docker', ...t.docker } : { kind: 'host' };
}

/** The connection pg_dump uses. */
export function backupConnection(target: Target, as: BackupOptions['as'] = 'backup'): ConnectionSettings {
  if (as === 'admin') return adminConnection(target);
  const password = rolePassword(target, 'backup');
  if (password) return { ...adminConnection(target), user: target.roles.backup, password };
  if (as === 'auto') return adminConnection(target);
  throw new UserError(`the password of the backup role ${target.roles.backup} is not known`, 'set DB_BACKUP_PASSWORD (setup-db gives the role that password)');
}

export async function serverInfo(sql: Sql): Promise<ServerInfo> {
  const [v] = await sql<{ v: string; n: number }[]>`select current_setting('server_version') as v, current_setting('server_version_num')::int as n`;
  return { version: v!.v.split(' ')[0]!, versionNum: v!.n, major: Math.floor(v!.n / 10000) };
}

/**
 * Everything that must hold before a backup starts: the server answers as the backup role
 * and a pg_dump at least as new as the server exists. Throws the one-line reason otherwise;
 * the cron job calls it on every run so a missing pg_dump is reported, not crashed on.
 */
export async function backupPreflight(target: Target, opts: Pick<BackupOptions, 'as' | 'ops' | 'env'> = {}): Promise<{ server: ServerInfo; pgDump: PgTool; connection: ConnectionSettings }> {
  const env = opts.env ?? process.env;
  const connection = backupConnection(target, opts.as);
  const sql = await connectChecked(connection, { max: 1, applicationName: 'pgsteward backup' });
  try {
    const server = await serverInfo(sql);
    const pgDump = locateTool('pg_dump', server.major, server.version, placementFor(opsFor(target, opts.ops, env)), env);
    return { server, pgDump, connection };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function lastErrorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const err = [...lines].reverse().find((l) => /error|fatal|failed/i.test(l)) ?? lines.at(-1) ?? 'no output';
  return scrub(err.replace(/^pg_dump: (error: )?/, ''));
}

interface DumpRun {
  bytes: number;
  sha256: string;
}

/** Runs pg_dump -Fc into `file`, hashing and counting on the way; rejects with pg_dump's own reason. */
function runPgDump(tool: PgTool, conn: ConnectionSettings, snapshot: string, file: string, opts: { onProgress?: (p: TransferProgress) => void; signal?: AbortSignal; env: NodeJS.ProcessEnv }): { done: Promise<DumpRun>; kill: () => void } {
  const inv = invocation(tool, ['--format=custom', `--snapshot=${snapshot}`, `--lock-wait-timeout=${LOCK_WAIT}`, '--no-password'], conn, 'pgsteward backup', opts.env);
  // Its own process group: a Ctrl-C meant for the cron runner must not kill the dump it waits for.
  const child = spawn(inv.file, inv.args, { env: inv.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr = (stderr + d).slice(-16_384);
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  const onAbort = () => kill();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

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
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const written = pipeline(child.stdout, meter, createWriteStream(file, { flags: 'w', mode: 0o600, flush: true }));
  const done = (async () => {
    try {
      const [, exit] = await Promise.all([written.catch((e: unknown) => {
        kill();
        throw e;
      }), exited]);
      if (opts.signal?.aborted) throw new UserError('backup interrupted; the partial dump was removed', 'run the backup again');
      if (exit.code !== 0) {
        throw new UserError(`pg_dump failed: ${lastErrorLine(stderr)}`, 'nothing was stored; fix the cause and run the backup again');
      }
      opts.onProgress?.({ bytes, elapsedMs: Date.now() - started });
      return { bytes, sha256: hash.digest('hex') };
    } catch (e) {
      if (isUserError(e)) throw e;
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT' && err.syscall?.startsWith('spawn')) throw new UserError(`cannot run ${inv.file}`, 'install the PostgreSQL client tools or set PG_BIN');
      if (err.code === 'ENOSPC') throw new UserError(`no space left while writing ${file}`, 'free disk space or point the backup storage elsewhere');
      throw new UserError(`writing the dump failed: ${scrub((err.message ?? String(e)).split('\n')[0]!)}`, 'nothing was stored; fix the cause and run the backup again');
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  })();
  return { done, kill };
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
  const { server, pgDump, connection } = await backupPreflight(target, { as: opts.as, ops: opts.ops, env });
  const storage = opts.storage ?? storageFor(target, opts.ops, env);
  const startedAt = new Date();
  const finalName = await uniqueBackupName(target.config.kind, startedAt, opts.label, (n) => storage.exists(n));
  log.info({ backup: finalName, target: target.config.kind, database: target.config.database, storage: storage.location, server: server.version, pgDump: `${pgDump.version} (${pgDump.placement.kind})` }, 'backup started');

  if (target.config.kind === 'prod' && storage.kind === 'local') {
    log.warn({ storage: storage.location }, 'prod backups are going to a folder on this machine; configure backups.targets.prod.storage as an S3 bucket');
  }
  const staged = await storage.stage(finalName);
  const sql = await connectChecked(connection, { max: 1, applicationName: 'pgsteward backup' });
  try {
    const snap = await sql.begin('isolation level repeatable read read only', async (tx) => {
      await tx.unsafe(`set local lock_timeout = '${LOCK_WAIT}'`);
      await tx.unsafe(`set local idle_in_transaction_session_timeout = 0`);
      const [row] = await tx.unsafe<{ s: string }[]>('select pg_export_snapshot() as s');
      const dump = runPgDump(pgDump, connection, row!.s, staged, { onProgress: opts.onProgress, signal: opts.signal, env });
      dump.done.catch(() => {});
      try {
        const tables = await listTables(tx);
        const counts = await countRows(tx, tables);
        const migration = await lastMigration(tx);
        return { counts, migration, dump: await dump.done };
      } catch (e) {
        dump.kill();
        await dump.done.catch(() => {});
        throw e;
      }
    });
    const finishedAt = new Date();
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      name: finalName,
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
      finishedAt: finishedAt.toISOString(),
      tables: snap.counts,
      verified: false,
      verification: null,
    };
    if (opts.signal?.aborted) throw new UserError('backup interrupted; the partial dump was removed', 'run the backup again');
    const location = await storage.commit(staged, manifest);
    const rows = Object.values(snap.counts).reduce((a, b) => a + b, 0);
    log.info({ backup: finalName, location, bytes: manifest.bytes, sha256: manifest.sha256, tables: Object.keys(snap.counts).length, rows, durationMs: finishedAt.getTime() - startedAt.getTime() }, 'backup finished');
    return { location, manifest };
  } catch (e) {
    await storage.discard(staged).catch(() => {});
    if (isUserError(e)) throw e;
    const err = e as { code?: string; message?: string };
    if (err.code === '55P03') throw new UserError(`backup gave up waiting ${LOCK_WAIT} for a table lock`, 'a long migration or maintenance job holds one; run the backup again later');
    if (err.code === '42501') throw new UserError(`the backup role cannot read everything: ${scrub(err.message ?? '')}`, 'run setup-db to re-apply the grants');
    throw e;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
