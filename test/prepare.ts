import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../core/paths.ts';

/**
 * npm runs this before `npm test` (the `pretest` script), so the README's one test command is
 * enough on a fresh clone: the PostgreSQL 17 client tools (`npm run pg-tools`) and the real
 * sqlx toolchain for the interop tests, each a no-op when already in place. A failure here
 * does not stop the run: the tests that need what is missing fail with the line saying why.
 */
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const steps: Array<[what: string, args: string[]]> = [
  ['the PostgreSQL 17 client tools', [path.join(REPO_ROOT, 'ops', 'pg-tools.ts')]],
  ['the sqlx interop toolchain', [path.join(REPO_ROOT, 'test', 'interop', 'build-toolchain.ts')]],
];
for (const [what, args] of steps) {
  const r = spawnSync(TSX, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.status !== 0) console.log(`warning: could not prepare ${what} (above); the tests that need it will fail and say why`);
}
