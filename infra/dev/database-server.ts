import path from 'node:path';
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { REPO_ROOT } from '../../core/paths.ts';
import { PURPOSE, dockerLabels, type DevNames, type TagContext } from '../naming.ts';
import { postgresCommand } from '../sizing.ts';

export const POSTGRES_PORT = 5432;
export const SUPERUSER = 'postgres';
/** Where the superuser password file is uploaded; the image's entrypoint reads POSTGRES_PASSWORD_FILE. */
export const PASSWORD_FILE = '/run/pgsteward/postgres-password';
export const DATA_DIR = '/var/lib/postgresql/data';
/** The postgres user of the official Debian image. */
const POSTGRES_UID = '999';

export interface DevDatabaseServerArgs {
  names: DevNames;
  tags: TagContext;
  networkName: pulumi.Input<string>;
  baseImage: string;
  memoryMb: number;
  shmSizeMb: number;
  /** `-c` settings (see sizing.ts). */
  settings: Record<string, string>;
  keepDataOnDestroy: boolean;
}

/**
 * PostgreSQL 17 with pg_uuidv7 in a container that is only on the internal network: no
 * published port, a named volume for data, a pg_isready healthcheck the deployment waits
 * on, a memory limit, a sized /dev/shm and a restart policy.
 */
export class DevDatabaseServer extends pulumi.ComponentResource {
  readonly container: docker.Container;
  readonly volume: docker.Volume;
  readonly image: docker.Image;
  readonly superuserPassword: pulumi.Output<string>;
  /** Host name on the internal network. */
  readonly host: pulumi.Output<string>;
  readonly port = POSTGRES_PORT;
  readonly superuser = SUPERUSER;

  constructor(name: string, args: DevDatabaseServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pgsteward:dev:DatabaseServer', name, {}, opts);
    const parent = { parent: this };

    const password = new random.RandomPassword(`${name}-superuser`, { length: 32, special: false }, parent);
    this.superuserPassword = pulumi.secret(password.result);

    this.image = new docker.Image(
      `${name}-image`,
      {
        imageName: args.names.serverImage,
        build: {
          context: path.join(REPO_ROOT, 'infra/docker/postgres'),
          dockerfile: path.join(REPO_ROOT, 'infra/docker/postgres/Dockerfile'),
          args: { PG_IMAGE: args.baseImage },
          builderVersion: 'BuilderBuildKit',
        },
        skipPush: true,
        buildOnPreview: false,
      },
      parent,
    );

    this.volume = new docker.Volume(
      `${name}-data`,
      { name: args.names.volume, labels: dockerLabels(args.tags, 'volume', PURPOSE.database) },
      // Development data is valuable too: destroying the stack leaves the volume unless told otherwise.
      { ...parent, retainOnDelete: args.keepDataOnDestroy },
    );

    this.container = new docker.Container(
      `${name}-container`,
      {
        name: args.names.server,
        hostname: args.names.server,
        image: this.image.repoDigest,
        command: postgresCommand(args.settings),
        envs: [`POSTGRES_USER=${SUPERUSER}`, 'POSTGRES_DB=postgres', `POSTGRES_PASSWORD_FILE=${PASSWORD_FILE}`, 'POSTGRES_INITDB_ARGS=--data-checksums'],
        uploads: [{ file: PASSWORD_FILE, content: this.superuserPassword, owner: POSTGRES_UID, group: POSTGRES_UID, permissions: '0400' }],
        networksAdvanced: [{ name: args.networkName, aliases: ['postgres'] }],
        ports: [],
        publishAllPorts: false,
        volumes: [{ volumeName: this.volume.name, containerPath: DATA_DIR }],
        healthcheck: {
          // Over TCP: during first-start initialisation the server listens on its socket only.
          tests: ['CMD', 'pg_isready', '-h', '127.0.0.1', '-p', String(POSTGRES_PORT), '-U', SUPERUSER, '-d', 'postgres'],
          interval: '5s',
          timeout: '3s',
          retries: 10,
          // No startInterval: it needs Docker Engine 25+ (API 1.44); a 5 s interval costs at most 5 s once.
          startPeriod: '60s',
        },
        wait: true,
        waitTimeout: 180,
        memory: args.memoryMb,
        memorySwap: args.memoryMb,
        shmSize: args.shmSizeMb,
        restart: 'unless-stopped',
        destroyGraceSeconds: 60,
        labels: dockerLabels(args.tags, 'postgres', PURPOSE.database),
      },
      // Two servers must never share the data volume: the old one stops before a new one starts.
      { ...parent, deleteBeforeReplace: true },
    );
    this.host = this.container.name;
    this.registerOutputs({ container: this.container.name, host: this.host, volume: this.volume.name });
  }
}
