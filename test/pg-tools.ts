import { REPO_ROOT } from '../core/paths.ts';
import { defaultStateDir, toolsLayout } from '../core/pgtools/install-plan.ts';
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
