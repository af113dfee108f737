#!/usr/bin/env -S npx tsx
import { runCommand, TARGET_OPTIONS } from '../core/cli/command.ts';
import { paint } from '../core/cli/paint.ts';
import { backupDatabase, describeManifest, storageFor } from '../core/backup/index.ts';
import { printJson } from '../core/cli/json.ts';
import { CONFIG_OPTION, opsContext } from '../core/cli/ops-context.ts';
import { abortOnSignals } from '../core/cli/signals.ts';
import { describeTransfer, transferReporter } from '../core/backup/progress.ts';
import { EXIT } from '../core/errors.ts';
import { openTarget } from '../core/open-target.ts';

await runCommand(
  {
    name: 'backup-db',
    summary: 'back up the database with pg_dump (custom format) as the backup role, with a manifest',
    options: {
      ...TARGET_OPTIONS,
      ...CONFIG_OPTION,
      label: { type: 'string', description: 'add a label to the file name, e.g. before-migration', valueName: 'TEXT' },
      list: { type: 'boolean', description: 'list the stored backups instead of taking one' },
    },
    details: [
      'Needs a pg_dump at least as new as the server: PG_DUMP, PG_BIN, PATH, then /usr/lib/postgresql/*/bin',
      '(highest wins). Without one it stops before doing anything and says what to install.',
      'Storage: <state>/backups/<target>/<database>/ unless the config names a folder or an S3 bucket.',
      'Examples:',
      '  npm run backup-db',
      '  npm run backup-db -- --target prod --label before-migration',
      '  npm run backup-db -- --list --json',
    ].join('\n'),
  },
  async (args) => {
    const ctx = opsContext('backup-db', args);
    const { config, ops, log } = ctx;
    if (args.values.list) {
      const storage = storageFor(config, ops);
      const listing = await storage.list();
      if (args.values.json) {
        printJson({ storage: storage.location, backups: listing.backups.map((b) => ({ location: b.location, ...b.manifest })), incomplete: listing.incomplete });
      } else {
        process.stdout.write(`backups of ${config.kind}/${config.database} in ${storage.location}:\n`);
        for (const b of [...listing.backups].reverse()) process.stdout.write(`  ${describeManifest(b.manifest)}\n`);
        if (listing.backups.length === 0) process.stdout.write('  (none)\n');
        for (const i of listing.incomplete) process.stdout.write(paint.yellow(`  ${i.name}: ${i.reason}\n`));
      }
      return EXIT.ok;
    }
    const target = await openTarget(config);
    const progress = transferReporter('backup-db', log);
    const ac = abortOnSignals(log);
    try {
      const { location, manifest } = await backupDatabase(target, {
        ops,
        logger: log,
        label: args.values.label as string | undefined,
        onProgress: (p) => progress.update(p),
        signal: ac.signal,
      });
      progress.done();
      if (args.values.json) {
        printJson({ location, manifest });
      } else {
        const secs = (Date.parse(manifest.finishedAt) - Date.parse(manifest.startedAt)) / 1000;
        process.stdout.write(`backup-db (${config.kind}/${config.database}): ${paint.green('done')} ${describeManifest(manifest)}\n`);
        process.stdout.write(`  ${describeTransfer({ bytes: manifest.bytes, elapsedMs: secs * 1000 })} in ${secs.toFixed(1)} s; sha256 ${manifest.sha256}\n  ${location}\n`);
      }
      return EXIT.ok;
    } finally {
      progress.done();
    }
  },
);
