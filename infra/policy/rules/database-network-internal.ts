import type { ResourceValidationPolicy } from '@pulumi/policy';
import { dockerLabel, isLoopbackAddress, MARKERS, TYPES } from '../resource-types.ts';

/**
 * Design record, network isolation: "Database only accessible via internal Docker network".
 * Docker: every network is internal except the loopback forward's bridge, which must bind to
 * 127.0.0.1. AWS: private subnets hand out no public addresses and their route tables have
 * no route out; an RDS instance lives in a DB subnet group, never the default VPC.
 */
export const databaseNetworkInternal: ResourceValidationPolicy = {
  name: 'pgsteward-database-network-internal',
  description: 'The database network is internal: no route out, nothing reachable from outside.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateResource: (args, reportViolation) => {
    const p = args.props;
    switch (args.type) {
      case TYPES.dockerNetwork: {
        if (dockerLabel(p, MARKERS.purposeLabel) === MARKERS.loopbackForward) {
          const binding = (p.options ?? {})['com.docker.network.bridge.host_binding_ipv4'];
          if (!isLoopbackAddress(binding)) {
            reportViolation('the loopback forward network must set options["com.docker.network.bridge.host_binding_ipv4"] = "127.0.0.1".');
          }
        } else if (p.internal !== true) {
          reportViolation('this Docker network is not internal; set internal: true so nothing on it has a route out.');
        }
        return;
      }
      case TYPES.dockerContainer: {
        if (dockerLabel(p, MARKERS.purposeLabel) !== MARKERS.database) return;
        if (p.networkMode && p.networkMode !== 'none' && !(p.networksAdvanced ?? []).some((n: { name?: string }) => n.name === p.networkMode)) {
          reportViolation(`the database container uses networkMode "${p.networkMode}"; attach it to the internal network only (networksAdvanced).`);
        }
        if ((p.networksAdvanced ?? []).length !== 1) {
          reportViolation('the database container must be attached to exactly one network, the internal one.');
        }
        return;
      }
      case TYPES.subnet: {
        if (p.tags?.[MARKERS.tierTag] === 'private' && (p.mapPublicIpOnLaunch === true || p.assignIpv6AddressOnCreation === true)) {
          reportViolation('a private subnet gives public addresses on launch; set mapPublicIpOnLaunch: false.');
        }
        return;
      }
      case TYPES.routeTable: {
        if (p.tags?.[MARKERS.tierTag] !== 'private') return;
        const routes = (p.routes ?? []) as Array<Record<string, string | undefined>>;
        for (const r of routes) {
          const via = r.gatewayId ?? r.natGatewayId ?? r.egressOnlyGatewayId ?? r.transitGatewayId ?? r.networkInterfaceId ?? r.vpcPeeringConnectionId;
          if (via) reportViolation(`a private route table routes ${r.cidrBlock ?? r.ipv6CidrBlock ?? 'traffic'} through ${via}; private subnets keep only the local route.`);
        }
        return;
      }
      case TYPES.rdsInstance: {
        if (!p.replicateSourceDb && !p.dbSubnetGroupName) {
          reportViolation('no dbSubnetGroupName: the instance would land in the default VPC; place it in the private subnets\' DB subnet group.');
        }
        return;
      }
    }
  },
};
