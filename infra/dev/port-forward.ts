import path from 'node:path';
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { REPO_ROOT } from '../../core/paths.ts';
import { PURPOSE, dockerLabels, type DevNames, type TagContext } from '../naming.ts';

/** The only address a dev port is ever published on. */
export const LOOPBACK = '127.0.0.1';

export interface DevPortForwardArgs {
  names: DevNames;
  tags: TagContext;
  /** The internal database network and the forward-only bridge. */
  networkName: pulumi.Input<string>;
  forwardNetworkName: pulumi.Input<string>;
  targetHost: pulumi.Input<string>;
  targetPort: number;
  hostPort: number;
}

/**
 * The optional way in from the host: a small relay on both the internal network and a
 * forward-only bridge, publishing one port on 127.0.0.1 only. The database container itself
 * never joins a network with a route out, because Docker cannot publish ports from an
 * internal network.
 */
export class DevPortForward extends pulumi.ComponentResource {
  readonly container: docker.Container;
  readonly hostPort: number;
  readonly address = LOOPBACK;

  constructor(name: string, args: DevPortForwardArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pgsteward:dev:PortForward', name, {}, opts);
    const parent = { parent: this };
    const image = new docker.Image(
      `${name}-image`,
      {
        imageName: args.names.forwardImage,
        build: {
          context: path.join(REPO_ROOT, 'infra/docker/forward'),
          dockerfile: path.join(REPO_ROOT, 'infra/docker/forward/Dockerfile'),
          builderVersion: 'BuilderBuildKit',
        },
        skipPush: true,
        buildOnPreview: false,
      },
      parent,
    );
    this.hostPort = args.hostPort;
    this.container = new docker.Container(
      `${name}-relay`,
      {
        name: args.names.forward,
        image: image.repoDigest,
        command: [pulumi.interpolate`TCP:${args.targetHost}:${args.targetPort}`],
        networksAdvanced: [{ name: args.networkName }, { name: args.forwardNetworkName }],
        ports: [{ internal: args.targetPort, external: args.hostPort, ip: LOOPBACK, protocol: 'tcp' }],
        publishAllPorts: false,
        readOnly: true,
        memory: 32,
        restart: 'unless-stopped',
        labels: dockerLabels(args.tags, 'forward', PURPOSE.loopbackForward),
      },
      // The host port is taken by one relay at a time.
      { ...parent, deleteBeforeReplace: true },
    );
    this.registerOutputs({ container: this.container.name, hostPort: this.hostPort });
  }
}
