import type { ResourceValidationPolicy } from '@pulumi/policy';
import { isLoopbackAddress, TYPES } from '../resource-types.ts';

/** Design record: "Can't connect from host without port forward" - and a forward stays on this machine. */
export const dockerPortsLoopbackOnly: ResourceValidationPolicy = {
  name: 'pgsteward-docker-ports-loopback-only',
  description: 'A Docker container publishes ports only on the loopback address (127.0.0.1), never on every interface.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.dockerContainer) return;
    if (args.props.publishAllPorts === true) reportViolation('publishAllPorts is true; publish only the ports you need, each with ip: "127.0.0.1".');
    if (args.props.networkMode === 'host') reportViolation('networkMode is "host", which exposes every listening port; attach the container to a Docker network instead.');
    const ports = (args.props.ports ?? []) as Array<{ internal?: number; external?: number; ip?: string }>;
    for (const p of ports) {
      if (!isLoopbackAddress(p.ip)) {
        const where = p.ip ? `on ${p.ip}` : 'on every interface (no ip given)';
        reportViolation(`port ${p.external ?? '(random)'} -> ${p.internal} is published ${where}; set ip: "127.0.0.1".`);
      }
    }
  },
};
