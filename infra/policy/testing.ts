import type { ResourceValidationArgs, ResourceValidationPolicy } from '@pulumi/policy';

/**
 * Calls a policy's validateResource with a fake resource, as the policy runner would, and
 * returns the violations it reported. No PolicyPack is constructed (that starts a server).
 */
export async function violations(policy: ResourceValidationPolicy, type: string, props: Record<string, unknown>): Promise<string[]> {
  const found: string[] = [];
  const args: ResourceValidationArgs = {
    type,
    props,
    urn: `urn:pulumi:test::pgsteward::${type}::subject`,
    name: 'subject',
    opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new Error(`not applicable: ${reason ?? ''}`);
    },
  };
  const validators = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  for (const validate of validators) await validate(args, (message) => found.push(message));
  return found;
}
