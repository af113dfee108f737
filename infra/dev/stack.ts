import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { LOGIN_ROLES, roleNames, type LoginRole } from '../../core/config/role-names.ts';
import { secretUrl } from '../../core/db/url.ts';
import type { DevConfig } from '../config.ts';
import { devNames, stackPrefix, type TagContext } from '../naming.ts';
import type { StackContext } from '../stack-context.ts';
import { connectionBudget, dockerServerSettings, RESERVED_CONNECTIONS } from '../sizing.ts';
import { DevBootstrap } from './bootstrap.ts';
import { DevCron } from './cron.ts';
import { DevDatabaseServer } from './database-server.ts';
import { DevNetwork } from './network.ts';
import { DevPortForward } from './port-forward.ts';

export interface RoleConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** postgres:// URL with the password (a secret output). */
  url: string;
}

/**
 * The dev stack: an internal Docker network, PostgreSQL 17 + pg_uuidv7 on it, the one-shot
 * bootstrap, the cron container running the scheduled jobs, and (only when configured) the
 * loopback forward.
 */
export function devStack(cfg: DevConfig, ctx: StackContext) {
  const prefix = stackPrefix(ctx.project, ctx.stack);
  const names = devNames(prefix);
  const tags: TagContext = { project: ctx.project, stack: ctx.stack, target: 'dev', database: cfg.database };
  const budget = connectionBudget(cfg.pool, cfg.opsConnections, RESERVED_CONNECTIONS.docker);

  const network = new DevNetwork('network', { names, tags, forward: cfg.forward.enabled });
  const server = new DevDatabaseServer('database', {
    names,
    tags,
    networkName: network.name,
    baseImage: cfg.postgresBaseImage,
    memoryMb: cfg.memoryMb,
    shmSizeMb: cfg.shmSizeMb,
    settings: dockerServerSettings({ memoryMb: cfg.memoryMb, maxConnections: budget.total, slowStatementMs: cfg.slowStatementMs }),
    keepDataOnDestroy: cfg.keepDataOnDestroy,
  });
  const bootstrap = new DevBootstrap('bootstrap', {
    names,
    tags,
    networkName: network.name,
    server: { host: server.host, port: server.port, superuser: server.superuser, superuserPassword: server.superuserPassword, resource: server.container },
    database: cfg.database,
    pool: cfg.pool,
    setupKey: ctx.setupKey,
    passwordGeneration: cfg.passwordGeneration,
  });
  let cron: DevCron | undefined;
  if (cfg.cron) {
    // The folder the host's `npm run cron -- status --target dev` reads; docker binds it, so it must exist.
    const hostHistoryDir = path.dirname(ctx.ops.cron.historyFile);
    mkdirSync(hostHistoryDir, { recursive: true, mode: 0o700 });
    cron = new DevCron('cron', {
      names,
      tags,
      networkName: network.name,
      database: cfg.database,
      server: { host: server.host, port: server.port, superuser: server.superuser, superuserPassword: server.superuserPassword, resource: server.container },
      backupPassword: bootstrap.passwords.backup,
      bootstrap: bootstrap.container,
      ops: ctx.ops,
      hostHistoryDir,
      user: typeof process.getuid === 'function' && typeof process.getgid === 'function' ? { uid: process.getuid(), gid: process.getgid() } : undefined,
      keepDataOnDestroy: cfg.keepDataOnDestroy,
    });
  }
  const forward =
    cfg.forward.enabled && network.forwardNetwork
      ? new DevPortForward('forward', {
          names,
          tags,
          networkName: network.name,
          forwardNetworkName: network.forwardNetwork.name,
          targetHost: server.host,
          targetPort: server.port,
          hostPort: cfg.forward.port,
        })
      : undefined;

  const roles = roleNames(cfg.database);
  const connection = (user: string, password: pulumi.Output<string>, database: string): pulumi.Output<RoleConnection> =>
    pulumi.secret(
      pulumi.all([server.host, password]).apply(([host, pw]) => ({
        host,
        port: server.port,
        database,
        user,
        password: pw,
        url: secretUrl({ host, port: server.port, database, user, password: pw, ssl: 'disable' }),
      })),
    );
  const connections = Object.fromEntries(LOGIN_ROLES.map((r) => [r, connection(roles[r], bootstrap.passwords[r], cfg.database)])) as Record<LoginRole, pulumi.Output<RoleConnection>>;

  return {
    target: 'dev' as const,
    database: cfg.database,
    setupKey: ctx.setupKey,
    maxConnections: budget.total,
    network: network.name,
    container: server.container.name,
    volume: server.volume.name,
    /** Connection info per login role, on the internal network (host = the container's name). */
    connections,
    /** The superuser, for ops commands through the forward (DEV_DB_ADMIN_PASSWORD). */
    admin: connection(server.superuser, server.superuserPassword, 'postgres'),
    adminPassword: server.superuserPassword,
    forwardPort: forward ? forward.hostPort : undefined,
    /** DATABASE_URL for ops commands on this machine, through the loopback forward. */
    hostAdminUrl: forward
      ? pulumi.secret(
          server.superuserPassword.apply((pw) => secretUrl({ host: forward.address, port: forward.hostPort, database: 'postgres', user: server.superuser, password: pw, ssl: 'disable' })),
        )
      : undefined,
    bootstrap: { container: bootstrap.container.name, exitCode: bootstrap.exitCode },
    cron: cron ? { container: cron.container.name, backupsVolume: cron.backupsVolume.name, historyVolume: cron.historyVolume.name } : undefined,
  };
}
