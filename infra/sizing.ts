import { UserError } from '../core/errors.ts';
import { appConnectionLimit, type PoolBudget } from '../core/config/target-settings.ts';

/**
 * Server sizing derived from the design record's pool budget, shared by the Docker server
 * and the RDS parameter group so both stacks enforce the same limits.
 */

export interface ConnectionBudget {
  /** The app role's CONNECTION LIMIT: pool max × app instances (what setup-db sets). */
  app: number;
  /** Setup, backups, checks and an operator session. */
  ops: number;
  /** Slots only superusers (and on RDS, rds_superuser) may use. */
  reserved: number;
  /** max_connections. */
  total: number;
}

/**
 * max_connections = the app's budget + the ops reserve + the reserved slots. Sized from the
 * budget rather than the instance's memory (RDS's default formula), because the design's
 * limit is the pool, not the machine.
 */
export function connectionBudget(pool: PoolBudget, opsConnections: number, reserved: number): ConnectionBudget {
  const app = appConnectionLimit(pool);
  return { app, ops: opsConnections, reserved, total: app + opsConnections + reserved };
}

/** superuser_reserved_connections (3) on a plain server; RDS adds rds.rds_superuser_reserved_connections (2). */
export const RESERVED_CONNECTIONS = { docker: 3, rds: 5 } as const;

export interface ServerSettingsInput {
  memoryMb: number;
  maxConnections: number;
  slowStatementMs: number;
}

/**
 * `-c name=value` settings for the dev container: memory split the usual way (25% shared
 * buffers, 75% effective cache), plus the same logging the RDS parameter group turns on.
 */
export function dockerServerSettings(i: ServerSettingsInput): Record<string, string> {
  return {
    max_connections: String(i.maxConnections),
    shared_buffers: `${Math.max(32, Math.floor(i.memoryMb / 4))}MB`,
    effective_cache_size: `${Math.max(64, Math.floor((i.memoryMb * 3) / 4))}MB`,
    log_min_duration_statement: String(i.slowStatementMs),
    log_connections: 'on',
    log_disconnections: 'on',
    log_lock_waits: 'on',
    password_encryption: 'scram-sha-256',
  };
}

export function postgresCommand(settings: Record<string, string>): string[] {
  return ['postgres', ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}

export interface RdsParameter {
  name: string;
  value: string;
  applyMethod: 'immediate' | 'pending-reboot';
}

/**
 * What the postgres17 family already sets and we rely on, so the group leaves them alone: the
 * provider reads back only user-set parameters, and setting a family default gives a change
 * on every preview. rds.force_ssl is 1 by default from the postgres15 family on ("By default,
 * RDS for PostgreSQL uses and expects all clients to connect using SSL/TLS",
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html);
 * password_encryption is scram-sha-256, PostgreSQL's default since 14.
 */
export const RDS_FAMILY_DEFAULTS = { 'rds.force_ssl': '1', password_encryption: 'scram-sha-256' } as const;

/**
 * What RDS for PostgreSQL preloads when shared_preload_libraries is left alone. Setting the
 * parameter replaces that list, so ours starts with it: pg_stat_statements is preloaded by
 * default on RDS for PostgreSQL 11 and later (RDS User Guide, "Working with the
 * pg_stat_statements extension"; also noted on pgsql-docs, 2026-03-18, "the provider has
 * already included it in the default configuration, e.g. on Amazon RDS").
 */
export const RDS_DEFAULT_PRELOAD = ['pg_stat_statements'] as const;

/**
 * pg_tle (Trusted Language Extensions) runs SQL extensions RDS does not ship, pg_uuidv7 among
 * them; it must be preloaded ("Setting up Trusted Language Extensions in your RDS for
 * PostgreSQL DB instance", RDS User Guide).
 */
export const PRELOAD_LIBRARIES = [...RDS_DEFAULT_PRELOAD, 'pg_tle'] as const;

/**
 * The postgres17 parameter group: only values that differ from the family's. max_connections
 * and shared_preload_libraries are static on RDS: they wait for the next reboot.
 */
export function rdsParameters(i: { maxConnections: number; slowStatementMs: number }): RdsParameter[] {
  return [
    { name: 'max_connections', value: String(i.maxConnections), applyMethod: 'pending-reboot' },
    { name: 'shared_preload_libraries', value: PRELOAD_LIBRARIES.join(','), applyMethod: 'pending-reboot' },
    { name: 'log_min_duration_statement', value: String(i.slowStatementMs), applyMethod: 'immediate' },
    { name: 'log_connections', value: '1', applyMethod: 'immediate' },
    { name: 'log_disconnections', value: '1', applyMethod: 'immediate' },
    { name: 'log_lock_waits', value: '1', applyMethod: 'immediate' },
  ];
}

export interface PendingSetting {
  name: string;
  /** What the server runs with now. */
  live: string;
  /** What the parameter group asks for. */
  wanted: string;
}

const libraries = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);

/**
 * The static parameters the running server does not have yet: each needs a reboot. Compared
 * as the server reports them (pg_settings); a preload list is satisfied when every library
 * asked for is loaded (RDS may load more of its own). Settings the server did not report are
 * not judged. Pure.
 */
export function pendingReboot(parameters: readonly RdsParameter[], live: Readonly<Record<string, string>>): PendingSetting[] {
  const out: PendingSetting[] = [];
  for (const p of parameters) {
    if (p.applyMethod !== 'pending-reboot') continue;
    const now = live[p.name];
    if (now === undefined) continue;
    const same = p.name === 'shared_preload_libraries' ? libraries(p.value).every((l) => libraries(now).includes(l)) : now.trim() === p.value.trim();
    if (!same) out.push({ name: p.name, live: now, wanted: p.value });
  }
  return out;
}

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new UserError(`"${ip}" is not an IPv4 address`, 'use a CIDR such as 10.42.0.0/16');
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * `count` equal private subnets carved from the start of the VPC range, each 1/16 of it
 * (a /16 gives /20s), leaving the rest free for later tiers.
 */
export function privateSubnetCidrs(vpcCidr: string, count: number): string[] {
  const [ip, bitsText] = vpcCidr.split('/');
  const bits = Number(bitsText);
  if (!ip || !Number.isInteger(bits) || bits < 16 || bits > 24) throw new UserError(`VPC CIDR "${vpcCidr}" must be /16 to /24`, 'use a CIDR such as 10.42.0.0/16');
  const base = ipToInt(ip);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  if ((base & mask) >>> 0 !== base) throw new UserError(`VPC CIDR "${vpcCidr}" has host bits set`, `use ${intToIp((base & mask) >>> 0)}/${bits}`);
  if (count < 1 || count > 16) throw new UserError(`cannot carve ${count} subnets`, 'use 1 to 16 availability zones');
  const subBits = bits + 4;
  const size = 2 ** (32 - subBits);
  return Array.from({ length: count }, (_, i) => `${intToIp(base + i * size)}/${subBits}`);
}
