#!/usr/bin/env -S npx tsx
import { runCommand } from '../core/cli/command.ts';
import { progressLine } from '../core/cli/progress.ts';
import { resolveTarget } from '../core/config/target-settings.ts';
import { EXIT } from '../core/errors.ts';
import { resolveBinaries } from '../core/local/binaries.ts';
import { describeManifest, platformRefusal, PRODUCT_MAJOR } from '../core/pgtools/install-plan.ts';
import { installClientTools, thisPlatform } from '../core/pgtools/install.ts';
import { REPO_ROOT } from '../core/paths.ts';

await runCommand(
  {
    name: 'pg-tools',
    summary: "install pg_dump, pg_restore, psql and pg_dumpall matching the local PostgreSQL's major version into the state folder",
    options: {
      reinstall: { type: 'boolean', description: 'download and extract again even when the tools are in place' },
      json: { type: 'boolean', description: 'print the result as one JSON document' },
    },
    details: [
      "Linux x64 with apt: Debian 13's postgresql-client-17 and the libraries it needs, fetched with apt-get download",
      'through a private apt configuration in <state>/tools/apt (signatures and hashes verified; the system apt untouched),',
      'extracted with dpkg -x into <state>/tools/postgresql-17. backup-db, restore-db and verify-backup find them there;',
      'PG_BIN=<state>/tools/postgresql-17/bin uses them by hand. Elsewhere: brew install postgresql@17, or the',
      "PostgreSQL project's apt repository, then PG_BIN.",
      'Environment: PGSTEWARD_HOME (state folder, default .pgsteward), LOCAL_PG_BIN (its postgres gives the major),',
      'PGSTEWARD_DEBIAN_MIRROR, PGSTEWARD_DEBIAN_SECURITY_MIRROR (default: the Debian mirror this machine uses).',
    ].join('\n'),
  },
  async (args) => {
    // Refuse an unsupported platform before looking for the local server: there may be none.
    const refusal = platformRefusal(thisPlatform(), PRODUCT_MAJOR);
    if (refusal) throw refusal;
    const config = resolveTarget({ target: 'local' }, process.env, REPO_ROOT);
    const { major } = await resolveBinaries(config.local.binDir);
    const progress = progressLine('pg-tools');
    const r = await installClientTools({ stateDir: config.stateDir, major, reinstall: Boolean(args.values.reinstall), onProgress: progress });
    progress('');
    if (args.values.json) {
      process.stdout.write(JSON.stringify({ outcome: r.outcome, bin: r.bin, manifest: r.manifestFile, tools: r.manifest.tools, packages: r.manifest.packages }, null, 2) + '\n');
      return EXIT.ok;
    }
    const head = r.outcome === 'installed'
      ? `pg-tools: installed PostgreSQL ${major} client tools in ${r.bin}`
      : `pg-tools: PostgreSQL ${major} client tools already installed in ${r.bin}; nothing to do (--reinstall fetches them again)`;
    process.stdout.write([head, ...describeManifest(r.manifest), `manifest: ${r.manifestFile}`, ''].join('\n'));
    return EXIT.ok;
  },
);
