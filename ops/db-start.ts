#!/usr/bin/env -S npx tsx
import { runCommand } from '../core/cli/command.ts';
import { targetConfigFromArgs } from '../core/cli/target-args.ts';
import { openTarget } from '../core/open-target.ts';
import { redactedUrl } from '../core/db/url.ts';
import { EXIT } from '../core/errors.ts';

await runCommand(
  {
    name: 'db:start',
    summary: 'start the local PostgreSQL cluster (initializing it the first time); it keeps running until db:stop',
    options: { json: { type: 'boolean', description: 'print one JSON document instead of text' } },
    details: 'Environment: LOCAL_PG_PORT (default 54317), LOCAL_PG_BIN (default: embedded PostgreSQL 17), LOCAL_PG_DATA, PGSTEWARD_HOME.',
  },
  async (args) => {
    const target = await openTarget(targetConfigFromArgs({ ...args, values: { ...args.values, target: 'local' } }), { start: true });
    const c = target.cluster!;
    const out = { started: target.startedCluster, dataDir: c.dataDir, version: c.bins.version, url: redactedUrl(target.admin), log: c.logFile };
    if (args.values.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    else process.stdout.write(`${out.started ? 'started' : 'already running'}: PostgreSQL ${out.version} at ${out.url} (data ${out.dataDir})\n`);
    return EXIT.ok;
  },
);
