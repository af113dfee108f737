import { mkdirSync, symlinkSync } from 'node:fs';
import { REPO_ROOT } from '../core/paths.ts';
import { defaultStateDir, toolsLayout, toolsRootDir } from '../core/pgtools/install-plan.ts';
import { installedTools } from '../core/pgtools/install.ts';

/**
 * The bin folder of the client tools `npm run pg-tools` installed (CI's install phase runs it),
 * for tests that need pg_dump, pg_restore, psql or pg_dumpall of `major`: pass it as PG_BIN.
 * Throws one line saying how to get them, so a test without them fails rather than skips.
 */
export function installedToolsBin(major = 17): string {
  const stateDir = defaultStateDir(REPO_ROOT, process.env);
  if (!installedTools(stateDir, major)) {
    throw new Error(`the PostgreSQL ${major} client tools are not installed in ${toolsLayout(stateDir, major).dir}; run npm run pg-tools`);
  }
  return toolsLayout(stateDir, major).bin;
}

/**
 * Makes the installed client tools of `major` part of another state folder, as a link to the
 * checkout's copy: a target whose PGSTEWARD_HOME is that folder then finds them the way a
 * user's target finds its own (discovery step 2, the installed tools), with no PG_BIN.
 * Returns false, and links nothing, when npm run pg-tools has not installed them.
 */
export function linkInstalledTools(stateDir: string, major = 17): boolean {
  const source = toolsLayout(defaultStateDir(REPO_ROOT, process.env), major).dir;
  if (!installedTools(defaultStateDir(REPO_ROOT, process.env), major)) return false;
  mkdirSync(toolsRootDir(stateDir), { recursive: true });
  symlinkSync(source, toolsLayout(stateDir, major).dir, 'dir');
  return true;
}
