import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';

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

export interface FakeResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
  /** Input name → names of the fake resources it refers to. */
  refs?: Record<string, string[]>;
}

/**
 * Calls a stack policy's validateStack with fake resources, as the policy runner would; `refs`
 * become the property dependencies Pulumi records when one resource's input is another's output.
 */
export async function stackViolations(policy: StackValidationPolicy, resources: readonly FakeResource[]): Promise<string[]> {
  const found: string[] = [];
  const byName = new Map<string, PolicyResource>();
  const out: PolicyResource[] = resources.map((r) => {
    const pr: PolicyResource = {
      type: r.type,
      props: r.props,
      urn: `urn:pulumi:test::pgsteward::${r.type}::${r.name}`,
      name: r.name,
      opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    };
    byName.set(r.name, pr);
    return pr;
  });
  resources.forEach((r, i) => {
    for (const [prop, names] of Object.entries(r.refs ?? {})) {
      const deps = names.map((n) => byName.get(n)).filter((d): d is PolicyResource => d !== undefined);
      out[i]!.propertyDependencies[prop] = deps;
      out[i]!.dependencies.push(...deps);
    }
  });
  await policy.validateStack(
    {
      resources: out,
      stackTags: new Map(),
      getConfig: <T extends object>() => ({}) as T,
      notApplicable: (reason?: string): never => {
        throw new Error(`not applicable: ${reason ?? ''}`);
      },
    },
    (message, urn) => found.push(urn ? `${urn.split('::').pop()}: ${message}` : message),
  );
  return found;
}
