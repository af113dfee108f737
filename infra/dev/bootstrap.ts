import path from 'node:path';
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { LOGIN_ROLES, type LoginRole } from '../../core/config/role-names.ts';
import type { PoolBudget } from '../../core/config/target-settings.ts';
import { REPO_ROOT } from '../../core/paths.ts';
import { judgeContainerExit } from '../bootstrap-result.ts';
import { LABEL, PURPOSE, dockerLabels, type DevNames, type TagContext } from '../naming.ts';
import { envFile, setupDbEnv } from '../setup-env.ts';

/** The env file setup-db reads (see infra/docker/bootstrap/Dockerfile). */
export const SETUP_ENV_FILE = '/run/pgsteward/setup.env';
/** The node user of the official Node image, which the bootstrap image runs as. */
const NODE_UID = '1000';

export interface DevBootstrapArgs {
  names: DevNames;
  tags: TagContext;
  networkName: pulumi.Input<string>;
  server: {
    host: pulumi.Input<string>;
    port: number;
    superuser: string;
    superuserPassword: pulumi.Input<string>;
    /** The bootstrap starts only once this (healthy) container exists. */
    resource: pulumi.Resource;
  };
  database: string;
  pool: PoolBudget;
  setupKey: string;
  passwordGeneration: number;
}

/**
 * Roles and migrations, applied from inside the internal network: a one-shot container
 * running this repository's setup-db. It runs when created and is replaced, so it runs
 * again, when the setup key (migrations + role definitions) or the setup image changes.
 * `attach` makes the deployment wait for it; a non-zero exit fails the deployment.
 */
export class DevBootstrap extends pulumi.ComponentResource {
  readonly passwords: Record<LoginRole, pulumi.Output<string>>;
  readonly container: docker.Container;
  readonly image: docker.Image;
  /** The checked exit code: resolves to 0, or fails the deployment. */
  readonly exitCode: pulumi.Output<number>;

  constructor(name: string, args: DevBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pgsteward:dev:DatabaseBootstrap', name, {}, opts);
    const parent = { parent: this };

    const passwords = {} as Record<LoginRole, pulumi.Output<string>>;
    for (const role of LOGIN_ROLES) {
      const pw = new random.RandomPassword(`${name}-${role}-password`, { length: 32, special: false, keepers: { generation: String(args.passwordGeneration) } }, parent);
      passwords[role] = pulumi.secret(pw.result);
    }
    this.passwords = passwords;

    this.image = new docker.Image(
      `${name}-image`,
      {
        imageName: args.names.bootstrapImage,
        build: {
          context: REPO_ROOT,
          dockerfile: path.join(REPO_ROOT, 'infra/docker/bootstrap/Dockerfile'),
          builderVersion: 'BuilderBuildKit',
        },
        skipPush: true,
        buildOnPreview: false,
      },
      parent,
    );

    const envText = pulumi.secret(
      pulumi
        .all([args.server.host, args.server.superuserPassword, passwords.migrator, passwords.app, passwords.readonly, passwords.backup])
        .apply(([host, superPw, migrator, app, readonly, backup]) =>
          envFile(
            setupDbEnv({
              target: 'dev',
              database: args.database,
              pool: args.pool,
              // The internal network carries no TLS; it never leaves the Docker host.
              admin: { host, port: args.server.port, database: 'postgres', user: args.server.superuser, password: superPw, ssl: 'disable' },
              passwords: { migrator, app, readonly, backup },
            }),
          ),
        ),
    );

    this.container = new docker.Container(
      `${name}-run`,
      {
        name: `${args.names.bootstrap}-${args.setupKey.slice(0, 12)}`,
        image: this.image.repoDigest,
        networksAdvanced: [{ name: args.networkName }],
        ports: [],
        uploads: [{ file: SETUP_ENV_FILE, content: envText, owner: NODE_UID, group: NODE_UID, permissions: '0400' }],
        attach: true,
        logs: true,
        mustRun: false,
        rm: false,
        restart: 'no',
        memory: 256,
        labels: dockerLabels(args.tags, 'bootstrap', PURPOSE.bootstrap, { [LABEL.setupKey]: args.setupKey }),
      },
      {
        ...parent,
        dependsOn: [args.server.resource],
        replacementTrigger: args.setupKey,
        deleteBeforeReplace: true,
        customTimeouts: { create: '20m' },
      },
    );

    const container = this.container;
    this.exitCode = pulumi.all([container.exitCode, container.containerLogs, container.urn]).apply(([code, logs, urn]) => {
      const verdict = judgeContainerExit(code, logs, urn);
      if (!verdict.ok) throw new pulumi.ResourceError(verdict.message, container, true);
      return code;
    });
    // The checked exit code is deliberately not registered here: the stack exports it, and a
    // failed check must surface once, as the deployment's error, not again from this component.
    this.registerOutputs({ container: this.container.name });
  }
}
