import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../errors.ts';
import type { ConnectionSettings } from '../db/url.ts';
import { generatePassword } from '../secrets.ts';
import { resolveBinaries, type PgBinaries } from './binaries.ts';
import { readSecrets, writeSecrets } from './secrets-file.ts';
import { unprivileged } from './unprivileged.ts';
import { portIsFree } from './ports.ts';
import { ensureOverlay, locateInstallation, type ExtensionFile } from './install-overlay.ts';
import { pgUuidv7, type BundledExtension } from '../extensions/bundled.ts';

const run = promisify(execFile);

export interface LocalClusterOptions {
  stateDir: string;
  binDir?: string | undefined;
  dataDir?: string | undefined;
  port: number;
  /** SQL extensions to offer where the installation lacks them (default: pg_uuidv7). */
  bundled?: readonly BundledExtension[];
}

/** What the server runs from: the installation itself, or an overlay that adds our extensions. */
export interface ServerRuntime {
  binDir: string;
  shareDir: string;
  /** Extensions added through the overlay; empty when the installation has them all. */
  added: string[];
  overlay?: { root: string; programs: 'hardlink' | 'copy'; built: boolean };
}

export interface ClusterStatus {
  running: boolean;
  pid?: number | undefined;
  port?: number | undefined;
  /** A postmaster.pid whose process is gone: left by a crash, cleared on the next start. */
  stalePid?: boolean;
}

/**
 * A PostgreSQL cluster the tool runs itself, from the embedded binaries or LOCAL_PG_BIN.
 * Listens on 127.0.0.1 only, with scram-sha-256 for every connection.
 */
export class LocalCluster {
  readonly bins: PgBinaries;
  readonly dataDir: string;
  readonly port: number;
  readonly secretsFile: string;
  readonly logFile: string;
  private readonly overlayParent: string;
  private readonly bundled: readonly BundledExtension[];
  private runtimeCache: ServerRuntime | undefined;

  private constructor(bins: PgBinaries, opts: LocalClusterOptions) {
    this.bins = bins;
    this.overlayParent = path.join(opts.stateDir, 'local', 'server');
    this.bundled = opts.bundled ?? [pgUuidv7()];
    this.dataDir = opts.dataDir ?? path.join(opts.stateDir, 'local', `pg${bins.major}`);
    this.port = opts.port;
    this.secretsFile = path.join(opts.stateDir, 'secrets', `local-${path.basename(this.dataDir)}.json`);
    this.logFile = path.join(path.dirname(this.dataDir), `${path.basename(this.dataDir)}.log`);
  }

  static async open(opts: LocalClusterOptions): Promise<LocalCluster> {
    return new LocalCluster(await resolveBinaries(opts.binDir), opts);
  }

  get initialized(): boolean {
    return existsSync(path.join(this.dataDir, 'PG_VERSION'));
  }

  /** Superuser connection settings; the password comes from the local secrets file. */
  adminSettings(database = 'postgres'): ConnectionSettings {
    const s = readSecrets(this.secretsFile);
    if (!s) throw new UserError(`the local cluster in ${this.dataDir} has no secrets file`, 'stop it and delete its data folder to start over, or restore the secrets file');
    return { host: '127.0.0.1', port: this.port, database, user: 'postgres', password: s.superuser, ssl: 'disable' };
  }

  /**
   * The binaries to run: the installation's own when its share/extension has every bundled
   * extension (a real pg_uuidv7 wins over ours), else an overlay under the state folder that
   * adds the missing ones. Decided once per process, before initdb or a start.
   */
  runtime(): ServerRuntime {
    if (this.runtimeCache) return this.runtimeCache;
    const inst = locateInstallation(this.bins.binDir);
    const missing = this.bundled.filter((e) => !existsSync(path.join(inst.shareDir, 'extension', `${e.name}.control`)));
    if (missing.length === 0) {
      this.runtimeCache = { ...inst, added: [] };
    } else {
      const files: ExtensionFile[] = missing.flatMap((e) => e.files);
      const o = ensureOverlay(this.overlayParent, inst, files);
      this.runtimeCache = { binDir: o.binDir, shareDir: o.shareDir, added: missing.map((e) => e.name), overlay: { root: o.root, programs: o.programs, built: o.built } };
    }
    return this.runtimeCache;
  }

  private async pg(tool: string, args: string[], binDir = this.runtime().binDir): Promise<{ stdout: string; stderr: string }> {
    const cmd = unprivileged(path.join(binDir, tool), args);
    try {
      return await run(cmd.file, cmd.args, { encoding: 'utf8', maxBuffer: 16 << 20 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      const detail = (err.stderr || err.message).trim().split('\n').filter(Boolean).pop() ?? 'failed';
      throw new UserError(`${tool} failed: ${detail}`, `see ${this.logFile}`);
    }
  }

  /** Creates the data folder once; a half-made one from an interrupted init is cleared first. */
  async init(): Promise<boolean> {
    if (this.initialized) return false;
    if (existsSync(this.dataDir)) rmSync(this.dataDir, { recursive: true, force: true });
    mkdirSync(path.dirname(this.dataDir), { recursive: true, mode: 0o700 });
    const existing = readSecrets(this.secretsFile);
    const superuser = existing?.superuser ?? generatePassword();
    if (!existing) writeSecrets(this.secretsFile, { superuser, roles: {} });
    const pwfile = path.join(path.dirname(this.dataDir), `.pwfile-${process.pid}`);
    writeFileSync(pwfile, superuser + '\n', { mode: 0o600 });
    try {
      await this.pg('initdb', ['-D', this.dataDir, '-U', 'postgres', `--pwfile=${pwfile}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']);
    } finally {
      rmSync(pwfile, { force: true });
    }
    // Network isolation by default: loopback only, no Unix socket to share file permissions over.
    appendFileSync(
      path.join(this.dataDir, 'postgresql.conf'),
      [
        '',
        '# pgsteward local target',
        "listen_addresses = '127.0.0.1'",
        "unix_socket_directories = ''",
        'max_connections = 100',
        'fsync = on',
        '',
      ].join('\n'),
    );
    return true;
  }

  status(): ClusterStatus {
    const pidFile = path.join(this.dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return { running: false };
    const lines = readFileSync(pidFile, 'utf8').split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    try {
      process.kill(pid, 0);
      return { running: true, pid, port };
    } catch {
      return { running: false, stalePid: true };
    }
  }

  /** Starts the server unless it is already up. Returns whether this call started it. */
  async start(): Promise<boolean> {
    const s = this.status();
    if (s.running) {
      if (s.port && s.port !== this.port) {
        throw new UserError(`the local cluster is already running on port ${s.port}, not ${this.port}`, `set LOCAL_PG_PORT=${s.port}, or stop it first (npm run db:stop)`);
      }
      return false;
    }
    if (s.stalePid) rmSync(path.join(this.dataDir, 'postmaster.pid'), { force: true });
    if (!(await portIsFree(this.port))) {
      throw new UserError(`port ${this.port} on 127.0.0.1 is already in use`, 'set LOCAL_PG_PORT to a free port');
    }
    try {
      await this.pg('pg_ctl', ['start', '-w', '-t', '60', '-D', this.dataDir, '-l', this.logFile, '-o', `-p ${this.port}`]);
    } catch (e) {
      // Another process may have started it in the meantime: reuse that server.
      if (this.status().running) return false;
      throw e;
    }
    return true;
  }

  async stop(): Promise<boolean> {
    if (!this.status().running) return false;
    // Stopping needs no overlay: pg_ctl only signals the running server.
    await this.pg('pg_ctl', ['stop', '-w', '-t', '60', '-m', 'fast', '-D', this.dataDir], this.bins.binDir);
    return true;
  }
}
