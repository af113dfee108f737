import { describe, expect, it } from 'vitest';
import type { ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { runStack, type Recorded } from '../test/pulumi-mocks.ts';
import { POLICIES } from './policies.ts';
import { TYPES } from './resource-types.ts';
import { stackViolations, violations } from './testing.ts';

/**
 * Every resource both stacks declare, checked against the whole pack: the resource policies
 * one by one, the stack policies over all of them with the property dependencies the
 * program really created (recorded from the engine requests). The stacks comply, and the same
 * check catches a change that breaks the design.
 */

const isStack = (p: ResourceValidationPolicy | StackValidationPolicy): p is StackValidationPolicy => 'validateStack' in p;

async function allViolations(resources: Recorded[]): Promise<string[]> {
  const out: string[] = [];
  const byUrn = new Map(resources.map((r) => [r.urn, r.name]));
  const fakes = resources.map((r) => ({
    type: r.type,
    name: r.name,
    props: r.inputs,
    refs: Object.fromEntries(Object.entries(r.opts.propertyDependencies).map(([k, urns]) => [k, urns.map((u) => byUrn.get(u)!).filter(Boolean)])),
  }));
  for (const policy of POLICIES) {
    if (isStack(policy)) {
      for (const v of await stackViolations(policy, fakes)) out.push(`${policy.name} ${v}`);
      continue;
    }
    for (const r of resources) {
      for (const v of await violations(policy, r.type, r.inputs)) out.push(`${policy.name} ${r.type} ${r.name}: ${v}`);
    }
  }
  return out;
}

const prod = (config: Record<string, string> = {}) => runStack({ stack: 'prod', config: { 'aws:region': 'eu-west-1', 'pgsteward:target': 'prod', ...config } });

describe('the stacks against the policy pack', () => {
  it('dev, with and without the loopback forward, has no violation', async () => {
    const plain = await runStack({ stack: 'dev', config: { 'pgsteward:target': 'dev' } });
    const forward = await runStack({ stack: 'dev', config: { 'pgsteward:target': 'dev', 'pgsteward:forward': 'true' } });
    expect(await allViolations(plain.resources)).toEqual([]);
    expect(await allViolations(forward.resources)).toEqual([]);
  });

  it('prod, default and with replicas, Multi-AZ, the bastion and alarm e-mail, has no violation', async () => {
    expect(await allViolations((await prod()).resources)).toEqual([]);
    const run = await prod({ 'pgsteward:readReplicas': '1', 'pgsteward:masterPasswordSource': 'stack', 'pgsteward:multiAz': 'true', 'pgsteward:ssmBastion': 'true', 'pgsteward:alarmEmail': 'ops@example.com', 'pgsteward:backupLockDays': '7' });
    const rds = run.ofType(TYPES.rdsInstance);
    expect(rds).toHaveLength(2);
    expect(await allViolations(run.resources)).toEqual([]);
    const broken = { ...rds[0]!, inputs: { ...rds[0]!.inputs, publiclyAccessible: true, deletionProtection: false } };
    expect(await allViolations([broken])).toEqual([expect.stringMatching(/^pgsteward-no-public-database /), expect.stringMatching(/^pgsteward-prod-deletion-protection /)]);
  });

  it('prod with deletion protection switched off is reported, and the same with decommission is not', async () => {
    const off = await prod({ 'pgsteward:deletionProtection': 'false' });
    expect(await allViolations(off.resources)).toEqual([expect.stringMatching(/^pgsteward-prod-deletion-protection aws:rds\/instance:Instance database-primary: deletionProtection is not true/)]);
    const decommission = await prod({ 'pgsteward:decommission': 'true' });
    expect(decommission.one(TYPES.rdsInstance).inputs.deletionProtection).toBe(false);
    expect(await allViolations(decommission.resources)).toEqual([]);
  });

  it('catches a prod stack whose bucket lost its public block, whose job got s3:*, or whose alarm went missing', async () => {
    const run = await prod();
    const resources = run.resources;
    const noBlock = resources.filter((r) => r.type !== TYPES.s3PublicAccessBlock);
    expect(await allViolations(noBlock)).toEqual([expect.stringMatching(/^pgsteward-backup-bucket-secure backups-bucket: bucket backups-bucket has no public access block/)]);
    const wide = resources.map((r) =>
      r.name === 'jobs-backup-task-policy' ? { ...r, inputs: { ...r.inputs, policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Wide', Effect: 'Allow', Action: 's3:*', Resource: '*' }] }) } } : r,
    );
    expect(await allViolations(wide)).toEqual([expect.stringMatching(/^pgsteward-task-roles-no-wildcard-actions jobs-backup-task-policy: .*"s3:\*"/)]);
    const unwatched = resources.filter((r) => !(r.type === TYPES.metricAlarm && r.inputs.tags?.['pgsteward:schedule'] === 'pgsteward-prod-verify'));
    expect(await allViolations(unwatched)).toEqual([expect.stringMatching(/^pgsteward-scheduled-jobs-alarmed jobs-verify-schedule: schedule pgsteward-prod-verify has no alarm/)]);
    const noTls = resources.filter((r) => r.type !== TYPES.s3BucketPolicy);
    expect(await allViolations(noTls)).toEqual([expect.stringMatching(/^pgsteward-bucket-tls-enforced backups-bucket: /)]);
  });
});
