/**
 * Resource type tokens the policies inspect. Strings, not SDK classes, so the policy pack
 * loads without the provider SDKs; resource-types.test.ts checks each against its SDK.
 */
export const TYPES = {
  rdsInstance: 'aws:rds/instance:Instance',
  rdsCluster: 'aws:rds/cluster:Cluster',
  rdsClusterInstance: 'aws:rds/clusterInstance:ClusterInstance',
  rdsParameterGroup: 'aws:rds/parameterGroup:ParameterGroup',
  subnet: 'aws:ec2/subnet:Subnet',
  routeTable: 'aws:ec2/routeTable:RouteTable',
  dockerContainer: 'docker:index/container:Container',
  dockerNetwork: 'docker:index/network:Network',
} as const;

/** Tags and labels the stacks set (infra/naming.ts) and the policies key on. */
export const MARKERS = {
  targetTag: 'pgsteward:target',
  tierTag: 'pgsteward:tier',
  purposeLabel: 'io.pgsteward.purpose',
  loopbackForward: 'loopback-forward',
  database: 'database',
} as const;

export function dockerLabel(props: Record<string, any>, key: string): string | undefined {
  const labels = (props.labels ?? []) as Array<{ label?: string; value?: string }>;
  return labels.find((l) => l.label === key)?.value;
}

export function isLoopbackAddress(ip: string | undefined): boolean {
  return !!ip && (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip) || ip === '::1' || ip === '[::1]');
}
