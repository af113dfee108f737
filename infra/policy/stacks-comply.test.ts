import { describe, expect, it } from 'vitest';
import { runStack, type Recorded } from '../test/pulumi-mocks.ts';
import { POLICIES } from './policies.ts';
import { TYPES } from './resource-types.ts';
import { violations } from './testing.ts';

/** Every resource both stacks declare, checked against the whole pack: the stacks comply. */

async function allViolations(resources: Recorded[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of resources) {
    for (const policy of POLICIES) {
      for (const v of await violations(policy, r.type, r.inputs)) out.push(`${policy.name} ${r.type} ${r.name}: ${v}`);
    }
  }
  return out;
}

describe('the stacks against the policy pack', () => {
  it('dev, with and without the loopback forward, has no violation', async () => {
    const plain = await runStack({ stack: 'dev', config: { 'pgsteward:target': 'dev' } });
    const forward = await runStack({ stack: 'dev', config: { 'pgsteward:target': 'dev', 'pgsteward:forward': 'true' } });
    expect(await allViolations([...plain.resources, ...forward.resources])).toEqual([]);
  });

  it('prod, with replicas, Multi-AZ and the bastion, has no violation', async () => {
    const run = await runStack({ stack: 'prod', config: { 'pgsteward:target': 'prod', 'pgsteward:readReplicas': '1', 'pgsteward:multiAz': 'true', 'pgsteward:ssmBastion': 'true' } });
    const rds = run.ofType(TYPES.rdsInstance);
    expect(rds).toHaveLength(2);
    expect(await allViolations(run.resources)).toEqual([]);
    // The same check does catch a change that breaks the design.
    const broken = { ...rds[0]!, inputs: { ...rds[0]!.inputs, publiclyAccessible: true, deletionProtection: false } };
    expect(await allViolations([broken])).toEqual([
      expect.stringMatching(/^pgsteward-no-public-database /),
      expect.stringMatching(/^pgsteward-prod-deletion-protection /),
    ]);
  });

  it('prod with deletion protection switched off is reported by the pack', async () => {
    const run = await runStack({ stack: 'prod', config: { 'pgsteward:target': 'prod', 'pgsteward:deletionProtection': 'false' } });
    expect(await allViolations(run.resources)).toEqual([expect.stringMatching(/^pgsteward-prod-deletion-protection aws:rds\/instance:Instance database-primary: deletionProtection is not true/)]);
  });
});
