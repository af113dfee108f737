import type { StackValidationPolicy } from '@pulumi/policy';
import { asList, statements, TYPES } from '../resource-types.ts';
import { referring } from './backup-bucket-secure.ts';

/** The problems of one policy document: Allow statements with wildcard or negated actions. Pure. */
export function wildcardActions(policy: unknown): string[] {
  const out: string[] = [];
  for (const s of statements(policy)) {
    if (s.Effect !== 'Allow') continue;
    if (s.NotAction !== undefined) out.push(`statement ${s.Sid ?? '(no Sid)'} allows everything but ${JSON.stringify(s.NotAction)} (NotAction)`);
    for (const a of asList(s.Action)) if (a.includes('*')) out.push(`statement ${s.Sid ?? '(no Sid)'} allows the wildcard action "${a}"`);
  }
  return out;
}

const assumedBy = (assumeRolePolicy: unknown, service: string) =>
  statements(assumeRolePolicy).some((s) => {
    const p = (s.Principal as { Service?: string | string[] } | undefined)?.Service;
    return asList(p).includes(service);
  });

/**
 * IAM grants name their actions. Every inline policy the stacks write allows named actions
 * only (no `*`, no `s3:*`, no `s3:Get*`, no NotAction); a resource of `*` is left to actions
 * that have no resource-level permissions. Roles that ECS tasks assume (the jobs' task and
 * execution roles) get inline policies only: a managed policy's actions are not ours to check.
 */
export const taskRolesNoWildcards: StackValidationPolicy = {
  name: 'pgsteward-task-roles-no-wildcard-actions',
  description: 'IAM policies the stacks write allow named actions only (no wildcards, no NotAction), and ECS task roles carry no managed policies.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateStack: (args, reportViolation) => {
    for (const r of args.resources.filter((x) => x.type === TYPES.iamRolePolicy || x.type === TYPES.iamPolicy)) {
      for (const problem of wildcardActions(r.props.policy)) reportViolation(`${r.name}: ${problem}; list the actions it needs.`, r.urn);
    }
    for (const role of args.resources.filter((x) => x.type === TYPES.iamRole && assumedBy(x.props.assumeRolePolicy, 'ecs-tasks.amazonaws.com'))) {
      for (const a of referring(args.resources, TYPES.iamRolePolicyAttachment, 'role', role)) {
        reportViolation(`${role.name} is an ECS task role with the managed policy ${String(a.props.policyArn)} attached; grant named actions in an inline policy instead.`, a.urn);
      }
      for (const p of asList(role.props.managedPolicyArns)) reportViolation(`${role.name} is an ECS task role with the managed policy ${p}; grant named actions in an inline policy instead.`, role.urn);
    }
  },
};
