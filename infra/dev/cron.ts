import path from 'node:path';
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import type { OpsConfig } from '../../core/config/ops-config.ts';
import { secretUrl } from '../../core/db/url.ts';
import { PURPOSE, dockerLabels, type DevNames, type TagContext } from '../naming.ts';
import { runnerBuild } from '../runner/image.ts';
import { envFile } from '../setup-env.ts';

/** Inside the cron container: its state folder, where backups and the run history live. */
export const CRON_HOME = '/var/lib/pgsteward';
export const CRON_BACKUPS_DIR = `${CRON_HOME}/backups`;
export const CRON_HISTORY_DIR = `${CRON_HOME}/cron`;
/** The env file the runner image's entrypoint reads (see infra/docker/runner/Dockerfile). */
export const RUNNER_ENV_FILE = '/run/pgsteward/runner.env';
export const CRON_CONFIG_FILE = '/run/pgsteward/pgsteward.config.json';
/** The node user of the official Node image, which the runner image runs as. */
const NODE_UID = 1000;

export interface DevCronArgs {
  names: DevNames;
  tags: TagContext;
  networkName: pulumi.Input<string>;
  database: string;
  server: { host: pulumi.Input<string>; port: number; superuser: string; superuserPassword: pulumi.Input<string>; resource: pulumi.Resource };
  backupPassword: pulumi.Input<string>;
  /** The bootstrap must have created the roles before the first job. */
  bootstrap: pulumi.Resource;
  ops: OpsConfig;
  /**
   * The host folder holding the run history (the folder of the host's cron.historyFile), so
   * `npm run cron -- status --target dev` on the host reads what the container wrote.
   */
  hostHistoryDir: string;
  /** The host user the container runs as, so the history files it writes are the host user's; default the image's node user. */
  user: { uid: number; gid: number } | undefined;
  keepDataOnDestroy: boolean;
}

/** The cron container's pgsteward.config.json: local storage on its volume, history on the host's folder. Pure. */
export function devCronConfig(ops: OpsConfig): string {
  return JSON.stringify({
    backups: { targets: { dev: { storage: { type: 'local', dir: CRON_BACKUPS_DIR }, retention: ops.targets.dev.retention } } },
    cron: { timezone: ops.cron.timezone, historyFile: `${CRON_HISTORY_DIR}/${path.basename(ops.cron.historyFile)}`, jobs: ops.cron.jobs },
  });
}

/**
 * The scheduled jobs in dev: the runner image (built locally, the same Dockerfile prod pushes)
 * running `cron` on the internal network, next to the server it reaches by name. Backups go
 * to a named volume that, like the data volume, outlives `pulumi destroy` unless told
 * otherwise; the history goes to the host's history folder, bound in as a volume.
 */
export class DevCron extends pulumi.ComponentResource {
  readonly container: docker.Container;
  readonly image: docker.Image;
  readonly backupsVolume: docker.Volume;
  readonly historyVolume: docker.Volume;

  constructor(name: string, args: DevCronArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pgsteward:dev:Cron', name, {}, opts);
    const parent = { parent: this };

    this.image = new docker.Image(`${name}-image`, { imageName: args.names.cronImage, build: runnerBuild(), skipPush: true, buildOnPreview: false }, parent);

    this.backupsVolume = new docker.Volume(
      `${name}-backups`,
      { name: args.names.backupsVolume, labels: dockerLabels(args.tags, 'volume', PURPOSE.cron) },
      { ...parent, retainOnDelete: args.keepDataOnDestroy },
    );
    // A named volume bound to the host folder: the history survives the container and the host's `cron status` reads it.
    this.historyVolume = new docker.Volume(
      `${name}-history`,
      { name: `${args.names.cron}-history`, driver: 'local', driverOpts: { type: 'none', o: 'bind', device: args.hostHistoryDir }, labels: dockerLabels(args.tags, 'volume', PURPOSE.cron) },
      { ...parent, retainOnDelete: true },
    );

    const envText = pulumi.secret(
      pulumi.all([args.server.host, args.server.superuserPassword, args.backupPassword]).apply(([host, superPw, backupPw]) =>
        envFile({
          DB_TARGET: 'dev',
          // The dev target reaches loopback only, unless the one database host is named (see core/config/target-rules.ts).
          DEV_DB_HOST: host,
          DB_NAME: args.database,
          // verify restores into a scratch database: the superuser, over the internal network (no TLS there).
          DATABASE_URL: secretUrl({ host, port: args.server.port, database: 'postgres', user: args.server.superuser, password: superPw, ssl: 'disable' }),
          DB_BACKUP_PASSWORD: backupPw,
          PGSTEWARD_CONFIG: CRON_CONFIG_FILE,
          PGSTEWARD_HOME: CRON_HOME,
        }),
      ),
    );

    const uid = String(args.user?.uid ?? NODE_UID);
    const gid = String(args.user?.gid ?? NODE_UID);
    this.container = new docker.Container(
      `${name}-container`,
      {
        name: args.names.cron,
        image: this.image.repoDigest,
        command: ['cron', '--target', 'dev'],
        user: `${uid}:${gid}`,
        networksAdvanced: [{ name: args.networkName }],
        ports: [],
        publishAllPorts: false,
        uploads: [
          { file: RUNNER_ENV_FILE, content: envText, owner: uid, group: gid, permissions: '0400' },
          { file: CRON_CONFIG_FILE, content: devCronConfig(args.ops), owner: uid, group: gid, permissions: '0400' },
        ],
        volumes: [
          { volumeName: this.backupsVolume.name, containerPath: CRON_BACKUPS_DIR },
          { volumeName: this.historyVolume.name, containerPath: CRON_HISTORY_DIR },
        ],
        restart: 'unless-stopped',
        // SIGTERM lets a running job finish (cron waits for it); give it time.
        destroyGraceSeconds: 600,
        memory: 512,
        labels: dockerLabels(args.tags, 'cron', PURPOSE.cron),
      },
      { ...parent, dependsOn: [args.server.resource, args.bootstrap], deleteBeforeReplace: true },
    );
    this.registerOutputs({ container: this.container.name });
  }
}
