import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { PURPOSE, dockerLabels, type DevNames, type TagContext } from '../naming.ts';

export interface DevNetworkArgs {
  names: DevNames;
  tags: TagContext;
  /** Create the forward-only bridge the loopback relay publishes through. */
  forward: boolean;
}

/**
 * The dev stack's networks. The database network is `internal: true`: Docker gives it no
 * gateway, so nothing on it has a route out and nothing outside can reach in ("can't
 * connect from host without port forward"). The forward bridge exists only when the
 * loopback forward is switched on, and binds published ports to 127.0.0.1 by default.
 */
export class DevNetwork extends pulumi.ComponentResource {
  readonly network: docker.Network;
  readonly forwardNetwork: docker.Network | undefined;
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: DevNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pgsteward:dev:Network', name, {}, opts);
    this.network = new docker.Network(
      `${name}-db`,
      {
        name: args.names.network,
        driver: 'bridge',
        internal: true,
        attachable: false,
        labels: dockerLabels(args.tags, 'network', PURPOSE.database),
      },
      { parent: this },
    );
    this.name = this.network.name;
    this.forwardNetwork = args.forward
      ? new docker.Network(
          `${name}-forward`,
          {
            name: args.names.forwardNetwork,
            driver: 'bridge',
            internal: false,
            attachable: false,
            options: {
              // A port published without an address on this bridge still lands on loopback.
              'com.docker.network.bridge.host_binding_ipv4': '127.0.0.1',
            },
            labels: dockerLabels(args.tags, 'network', PURPOSE.loopbackForward),
          },
          { parent: this },
        )
      : undefined;
    this.registerOutputs({ name: this.name, forwardNetwork: this.forwardNetwork?.name });
  }
}
