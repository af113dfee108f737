import { createHash } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import * as settings from '@pulumi/pulumi/runtime/settings.js';

// Internal to the SDK (so absent from its typings): resolves once every resource
// registration the program started has been answered.
const waitForRPCs = (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs;

/**
 * Runs the real Pulumi program against Pulumi's own unit-test mocks: no engine, no provider
 * plugin, no Docker, no AWS. Every resource the program declares is recorded with the inputs
 * it was given, and the mocks answer with the outputs a provider would (ids, names, ARNs,
 * the exit code of a container, an RDS address), so the program's outputs resolve.
 */

export interface Recorded {
  type: string;
  name: string;
  /** Inputs with secret markers removed. */
  inputs: Record<string, any>;
  /** Inputs as the engine would receive them: secret values wrapped in Pulumi's secret signature. */
  raw: Record<string, any>;
}

/** Pulumi's wire signature for a secret value. */
const SECRET_SIG = '4dabf18193072939515e22adb298388d';
const SECRET_VALUE = '1b47061264138c4ac30d75fd1eb44270';

export function isSecretValue(v: unknown): boolean {
  return !!v && typeof v === 'object' && (v as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE;
}

/** Removes secret markers, recursively. */
export function unsecret(v: unknown): any {
  if (isSecretValue(v)) return unsecret((v as { value: unknown }).value);
  if (Array.isArray(v)) return v.map(unsecret);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unsecret(x)]));
  return v;
}

export interface MockBehaviour {
  /** Exit code the mocked Docker provider reports for attached one-shot containers. */
  containerExitCode?: number;
  containerLogs?: string;
  /** What the mocked Lambda invocation returns; default: the handler's success document for the key it was sent. */
  invocationResult?: (input: { setupKey?: string }) => string;
}

/**
 * Runs `fn` and collects what reaches the process as unhandled rejections meanwhile, the way
 * Pulumi's program runner sees them: its handler for them is what fails a deployment when
 * an Output's apply throws. Vitest's own handlers are set aside for that time only.
 */
export async function captureUnhandled(fn: () => Promise<void>, settleMs = 200): Promise<unknown[]> {
  const seen: unknown[] = [];
  const saved = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  const listener = (reason: unknown) => void seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, settleMs));
  } finally {
    process.removeListener('unhandledRejection', listener);
    for (const l of saved) process.on('unhandledRejection', l as (...args: unknown[]) => void);
  }
  return seen;
}

export interface StackRun {
  resources: Recorded[];
  /** URNs of everything registered, components included; a URN's type chain shows its parents. */
  urns: string[];
  outputs: Record<string, unknown>;
  ofType(type: string): Recorded[];
  one(type: string, name?: string): Recorded;
}

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

function mockState(args: pulumi.runtime.MockResourceArgs, behaviour: MockBehaviour): Record<string, any> {
  const i = args.inputs as Record<string, any>;
  const arn = (service: string, kind: string) => `arn:aws:${service}:eu-west-1:123456789012:${kind}:${i.name ?? args.name}`;
  switch (args.type) {
    case 'random:index/randomPassword:RandomPassword':
      return { ...i, result: `Pw${short(args.name)}${short(args.name + 'x')}` };
    case 'docker:index/image:Image':
      return { ...i, repoDigest: `sha256:${createHash('sha256').update(args.name).digest('hex')}`, imageName: i.imageName };
    case 'docker:index/container:Container':
      return { ...i, exitCode: i.attach ? (behaviour.containerExitCode ?? 0) : undefined, containerLogs: i.logs ? (behaviour.containerLogs ?? '') : undefined };
    case 'aws:ec2/vpc:Vpc':
      return { ...i, arn: arn('ec2', 'vpc') };
    case 'aws:ec2/securityGroup:SecurityGroup':
      return { ...i, arn: arn('ec2', 'security-group') };
    case 'aws:rds/instance:Instance': {
      const id = i.identifier ?? args.name;
      return {
        ...i,
        identifier: id,
        address: `${id}.c0ffee.eu-west-1.rds.amazonaws.com`,
        endpoint: `${id}.c0ffee.eu-west-1.rds.amazonaws.com:5432`,
        port: 5432,
        arn: `arn:aws:rds:eu-west-1:123456789012:db:${id}`,
        masterUserSecrets: i.manageMasterUserPassword ? [{ secretArn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-${short(id)}`, kmsKeyId: 'aws/secretsmanager', secretStatus: 'active' }] : [],
      };
    }
    case 'aws:secretsmanager/secret:Secret':
      return { ...i, arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${i.namePrefix ?? ''}${short(args.name)}` };
    case 'aws:secretsmanager/secretVersion:SecretVersion':
      return { ...i, versionId: `v-${short(JSON.stringify(i.secretString ?? ''))}` };
    case 'aws:lambda/function:Function':
      return { ...i, arn: arn('lambda', 'function') };
    case 'aws:lambda/invocation:Invocation': {
      const input = JSON.parse(i.input ?? '{}') as { setupKey?: string };
      const result = behaviour.invocationResult ? behaviour.invocationResult(input) : JSON.stringify({ ok: true, setupKey: input.setupKey ?? null, summary: 'applied 4, 0 already applied' });
      return { ...i, result };
    }
    case 'aws:iam/role:Role':
      return { ...i, name: i.name ?? `${args.name}-role`, arn: `arn:aws:iam::123456789012:role/${args.name}` };
    default:
      return { ...i, name: i.name ?? args.name, arn: arn('mock', args.type.split(':').pop() ?? 'resource') };
  }
}

function mockCall(args: pulumi.runtime.MockCallArgs): Record<string, any> {
  switch (args.token) {
    case 'aws:index/getAvailabilityZones:getAvailabilityZones':
      return { names: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'], zoneIds: ['euw1-az1', 'euw1-az2', 'euw1-az3'] };
    case 'aws:index/getRegion:getRegion':
      return { region: 'eu-west-1', name: 'eu-west-1', id: 'eu-west-1' };
    case 'aws:ssm/getParameter:getParameter':
      return { name: args.inputs.name, value: 'ami-0123456789abcdef0', type: 'String' };
    default:
      throw new Error(`no mock for ${args.token}`);
  }
}

/**
 * Resolves every Output inside a value, secrets included; rejects when an Output failed.
 * Uses Output's own promise (an SDK internal that Pulumi's unit-test examples rely on too):
 * `apply` alone would wait forever on a failed Output instead of reporting its error.
 */
export async function resolveAll(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    return resolveAll(await (value as unknown as { promise(): Promise<unknown> }).promise());
  }
  if (Array.isArray(value)) return Promise.all(value.map(resolveAll));
  if (value && typeof value === 'object' && !(value instanceof pulumi.asset.Asset) && !(value instanceof pulumi.asset.Archive)) {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveAll(v)] as const));
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * Sets the mocks and the config, then imports the program (mocks first, so nothing in it
 * can talk to a real engine) and runs it. `config` keys are `pgsteward:<key>` as in a stack file.
 */
export async function runStack(opts: { stack: string; config: Record<string, string>; migrationsDir?: string; behaviour?: MockBehaviour }): Promise<StackRun> {
  const resources: Recorded[] = [];
  const behaviour = opts.behaviour ?? {};
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = unsecret(args.inputs) as Record<string, any>;
        resources.push({ type: args.type, name: args.name, inputs, raw: args.inputs as Record<string, any> });
        return { id: `${args.name}-id`, state: mockState({ ...args, inputs }, behaviour) };
      },
      call: mockCall,
    },
    'pgsteward',
    opts.stack,
    false,
  );
  pulumi.runtime.setAllConfig(opts.config);
  const { program } = await import('../program.ts');
  const outputs = (await program(opts.migrationsDir ? { migrationsDir: opts.migrationsDir } : {})) as Record<string, unknown>;
  await waitForRPCs();
  const monitor = settings.getMonitor() as unknown as { resources?: Map<string, unknown> };
  const urns = [...(monitor.resources?.keys() ?? [])];
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  return {
    resources,
    urns,
    outputs,
    ofType,
    one(type, name) {
      const found = ofType(type).filter((r) => name === undefined || r.name === name);
      if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ''}, found ${found.length}: ${found.map((r) => r.name).join(', ')}`);
      return found[0]!;
    },
  };
}
