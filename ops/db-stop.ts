#!/usr/bin/env -S npx tsx
import { runCommand } from '../core/cli/command.ts';
import { targetConfigFromArgs } from '../core/cli/target-args.ts';
import { LocalCluster } from '../core/local/cluster.ts';
import { EXIT } from '../core/errors.ts';

await runCommand(
  {
    name: 'db:stop',
    summary: 'stop the local PostgreSQL cluster cleanly (fast shutdown: open transactions roll back, data is kept)',
    options: { json: { type: 'boolean', description: 'print one JSON document instead of text' } },
  },
  async (args) => {
    const config = targetConfigFromArgs({ ...args, values: { ...args.values, target: 'local' } });
    const cluster = await LocalCluster.open({ stateDir: config.stateDir, ...config.local });
    const stopped = await cluster.stop();
    if (args.values.json) process.stdout.write(JSON.stringify({ stopped, dataDir: cluster.dataDir }) + '\n');
    else process.stdout.write(stopped ? `stopped the local cluster (${cluster.dataDir})\n` : `the local cluster is not running (${cluster.dataDir})\n`);
    return EXIT.ok;
  },
);
