import { loadOpsConfig } from '../config/ops-config.ts';
import type { TargetConfig } from '../config/target-settings.ts';
import { REPO_ROOT } from '../paths.ts';
import { describeBackupTools, discoverClientTool, type BackupToolsView } from './discover.ts';

/**
 * Which pg_dump a backup of this target would use, in words for status and start, without
 * running one: the dev target's container when the config says backups run there, else the
 * discovery a backup makes (same state folder, same environment). A config file that does not
 * parse is backup-db's error to report; here it only means "look on this machine".
 */
export function backupToolsFor(config: TargetConfig, serverVersion: string, env: NodeJS.ProcessEnv = process.env): BackupToolsView {
  const major = Number.parseInt(serverVersion, 10);
  let container: string | undefined;
  try {
    container = loadOpsConfig({ env, repoRoot: REPO_ROOT, stateDir: config.stateDir }).targets[config.kind].docker?.container;
  } catch {
    container = undefined;
  }
  if (container) return describeBackupTools({ kind: 'container', container }, major);
  return describeBackupTools(discoverClientTool('pg_dump', major, serverVersion, env, { stateDir: config.stateDir }), major);
}
