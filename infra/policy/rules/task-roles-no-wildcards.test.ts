import { describe, expect, it } from 'vitest';
import { executionRoleStatements, taskRoleStatements } from '../../prod/jobs.ts';
import { TYPES } from '../resource-types.ts';
import { stackViolations, type FakeResource } from '../testing.ts';
import { taskRolesNoWildcards, wildcardActions } from './task-roles-no-wildcards.ts';

const ecsTrust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const policy = (Statement: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const ids = { secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:s', bucketArn: 'arn:aws:s3:::b', keyArn: 'arn:aws:kms:eu-west-1:1:key/k', prefix: 'pgsteward/prod/app/' };

describe(taskRolesNoWildcards.name, () => {
  it("passes the jobs' own task and execution policies", async () => {
    const resources: FakeResource[] = [
      { type: TYPES.iamRole, name: 'task-role', props: { assumeRolePolicy: ecsTrust } },
      { type: TYPES.iamRolePolicy, name: 'backup', props: { role: 'r', policy: policy(taskRoleStatements('backup', ids)) }, refs: { role: ['task-role'] } },
      { type: TYPES.iamRolePolicy, name: 'verify', props: { role: 'r', policy: policy(taskRoleStatements('verify', ids)) }, refs: { role: ['task-role'] } },
      { type: TYPES.iamRolePolicy, name: 'exec', props: { role: 'r', policy: policy(executionRoleStatements({ repositoryArn: 'arn:aws:ecr:eu-west-1:1:repository/r', logGroupArn: 'arn:aws:logs:eu-west-1:1:log-group:/x' })) } },
    ];
    expect(await stackViolations(taskRolesNoWildcards, resources)).toEqual([]);
  });

  it('flags wildcard and negated actions, whatever the resource', async () => {
    expect(wildcardActions(policy([{ Sid: 'A', Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }]))).toEqual(['statement A allows the wildcard action "s3:*"']);
    expect(wildcardActions(policy([{ Sid: 'B', Effect: 'Allow', Action: ['s3:Get*', 'kms:Decrypt'], Resource: '*' }]))).toEqual(['statement B allows the wildcard action "s3:Get*"']);
    expect(wildcardActions(policy([{ Sid: 'C', Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }]))).toHaveLength(1);
    expect(wildcardActions({ Statement: { Effect: 'Allow', Action: '*', Resource: '*' } })).toHaveLength(1);
    // A Deny with a wildcard narrows access; it is not a grant.
    expect(wildcardActions(policy([{ Effect: 'Deny', Action: 's3:*', Resource: '*' }]))).toEqual([]);
    const found = await stackViolations(taskRolesNoWildcards, [{ type: TYPES.iamRolePolicy, name: 'p', props: { policy: policy([{ Sid: 'All', Effect: 'Allow', Action: '*', Resource: '*' }]) } }]);
    expect(found).toEqual(['p: p: statement All allows the wildcard action "*"; list the actions it needs.']);
  });

  it('flags a managed policy on a role ECS tasks assume, and leaves other roles their managed policies', async () => {
    const resources: FakeResource[] = [
      { type: TYPES.iamRole, name: 'task-role', props: { assumeRolePolicy: ecsTrust } },
      { type: TYPES.iamRole, name: 'lambda-role', props: { assumeRolePolicy: ecsTrust.replace('ecs-tasks', 'lambda') } },
      { type: TYPES.iamRolePolicyAttachment, name: 'admin', props: { role: 'x', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }, refs: { role: ['task-role'] } },
      { type: TYPES.iamRolePolicyAttachment, name: 'vpc', props: { role: 'y', policyArn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole' }, refs: { role: ['lambda-role'] } },
    ];
    expect(await stackViolations(taskRolesNoWildcards, resources)).toEqual([expect.stringMatching(/^admin: task-role is an ECS task role with the managed policy arn:aws:iam::aws:policy\/AdministratorAccess attached/)]);
  });
});
