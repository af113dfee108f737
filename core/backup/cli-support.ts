import type { OptionSpec, ParsedArgs } from '../cli/command.ts';
import { targetConfigFromArgs } from '../cli/target-args.ts';
import { loadOpsConfig, type OpsConfig } from '../config/ops-config.ts';
import type { TargetConfig } from '../config/target-settings.ts';
import { createLogger, type Logger } from '../log.ts';
import { REPO_ROOT } from '../paths.ts';
import { formatBytes } from './files.ts';
import type { BackupManifest } from './manifest.ts';
import { openStorage, type BackupStorage } from './storage/index.ts';

/** Shared by the backup commands and the cron runner. */
export const CONFIG_OPTION: Record<string, OptionSpec> = {
  config: { type: 'string', description: 'ops config file (default ./pgsteward.config.json if present; also PGSTEWARD_CONFIG)', valueName: 'FILE' },
};

export interface OpsContext {
  config: TargetConfig;
  ops: OpsConfig;
  log: Logger;
}

export function opsContext(name: string, args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): OpsContext {
  const config = targetConfigFromArgs(args, env);
  const ops = loadOpsConfig({ file: args.values.config as string | undefined, env, repoRoot: REPO_ROOT, stateDir: config.stateDir });
  return { config, ops, log: createLogger({ name }) };
}

export function storageOf(ctx: Pick<OpsContext, 'config' | 'ops'>, kind = ctx.config.kind, database = ctx.config.database): BackupStorage {
  return openStorage(ctx.ops.targets[kind], { kind, database, stateDir: ctx.config.stateDir });
}

/** `local-20261125T031500Z.dump  1.21 MiB  9 tables, 140 rows  migration 4  verified`. Pure. */
export function describeManifest(m: BackupManifest): string {
  const rows = Object.values(m.tables).reduce((a, b) => a + b, 0);
  const verified = m.verification ? (m.verified ? `verified ${m.verification.at.slice(0, 16).replace('T', ' ')}Z` : 'VERIFICATION FAILED') : 'not verified';
  return `${m.name}  ${formatBytes(m.bytes)}  ${Object.keys(m.tables).length} tables, ${rows} rows  migration ${m.lastMigration ?? '-'}  ${verified}`;
}

/** SIGINT/SIGTERM abort the work (a backup kills pg_dump and removes its partial file) instead of killing the process mid-write. */
export function abortOnSignals(log: Logger): AbortController {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) return;
    log.warn({ signal: sig }, 'interrupted; cleaning up');
    ac.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return ac;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v), 2) + '\n');
}
