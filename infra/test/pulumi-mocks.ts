import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import * as settings from '@pulumi/pulumi/runtime/settings.js';
import { parseOpsConfig, type OpsConfig } from '../../core/config/ops-config.ts';

// Internal to the SDK (so absent from its typings): resolves once every resource
// registration the program started has been answered.
const waitForRPCs = (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs;

/**
 * Runs the real Pulumi program against Pulumi's own unit-test mocks: no engine, no provider
 * plugin, no Docker, no AWS. Every resource the program declares is recorded with the inputs
 * it was given, and the mocks answer with the outputs a provider would (ids, names, ARNs,
 * the exit code of a container, an RDS address), so the program's outputs resolve.
 */

export interface ResourceOptionsSeen {
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  /** Custom timeouts as sent to the engine; undefined when none were given. */
  customTimeouts: { create: string; update: string; delete: string } | undefined;
  /** URNs this resource depends on (dependsOn and the outputs its inputs use). */
  dependencies: string[];
  /** Input name → URNs of the resources whose outputs that input uses. */
  propertyDependencies: Record<string, string[]>;
}

export interface Recorded {
  type: string;
  name: string;
  /** Inputs with secret markers removed. */
  inputs: Record<string, any>;
  /** Inputs as the engine would receive them: secret values wrapped in Pulumi's secret signature. */
  raw: Record<string, any>;
  /** The resource options the program gave, as the engine receives them. */
  opts: ResourceOptionsSeen;
  urn: string;
}

export interface RecordedCall {
  token: string;
  inputs: Record<string, any>;
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

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getDeletebeforereplace(): boolean;
  getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(fn: (v: { getUrnsList(): string[] }, k: string) => void): void };
}

const NO_OPTS: ResourceOptionsSeen = { protect: false, retainOnDelete: false, deleteBeforeReplace: false, customTimeouts: undefined, dependencies: [], propertyDependencies: {} };

export interface MockBehaviour {
  /** Exit code the mocked Docker provider reports for attached one-shot containers. */
  containerExitCode?: number;
  containerLogs?: string;
  /** What the mocked Lambda invocation returns; default: the handler's success document for the key it was sent. */
  invocationResult?: (input: { setupKey?: string; settings?: string[] }) => string;
  /** Live server settings the default invocation result reports (what pg_settings would show). */
  liveSettings?: Record<string, string>;
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
  /** Data source calls (getAvailabilityZones …) with their arguments. */
  calls: RecordedCall[];
  /** URNs of everything registered, components included; a URN's type chain shows its parents. */
  urns: string[];
  outputs: Record<string, unknown>;
  ofType(type: string): Recorded[];
  one(type: string, name?: string): Recorded;
}

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

/** A fresh value per creation, as a provider gives: two runs of the same program differ. */
const fresh = (bytes: number) => randomBytes(bytes).toString('hex');

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
      const input = JSON.parse(i.input ?? '{}') as { setupKey?: string; settings?: string[] };
      // The handler reports the settings it was asked for, and only those.
      const live = Object.fromEntries((input.settings ?? []).filter((n) => behaviour.liveSettings?.[n] !== undefined).map((n) => [n, behaviour.liveSettings![n]!]));
      const result = behaviour.invocationResult ? behaviour.invocationResult(input) : JSON.stringify({ ok: true, setupKey: input.setupKey ?? null, summary: 'applied 4, 0 already applied', settings: live });
      return { ...i, result };
    }
    case 'aws:iam/role:Role':
      return { ...i, name: i.name ?? `${args.name}-role`, arn: `arn:aws:iam::123456789012:role/${args.name}` };
    case 'random:index/randomId:RandomId': {
      const hex = fresh(i.byteLength ?? 4);
      return { ...i, hex, b64Std: Buffer.from(hex, 'hex').toString('base64'), dec: BigInt(`0x${hex}`).toString() };
    }
    case 'aws:s3/bucket:Bucket': {
      const bucket = i.bucket ?? `${i.bucketPrefix ?? ''}${fresh(13)}`;
      return { ...i, bucket, arn: `arn:aws:s3:::${bucket}`, region: 'eu-west-1' };
    }
    case 'aws:kms/key:Key': {
      const keyId = `0000${fresh(4)}-0000-4000-8000-${fresh(6)}`;
      return { ...i, keyId, arn: `arn:aws:kms:eu-west-1:123456789012:key/${keyId}` };
    }
    case 'aws:ecr/repository:Repository':
      return { ...i, arn: `arn:aws:ecr:eu-west-1:123456789012:repository/${i.name}`, registryId: '123456789012', repositoryUrl: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${i.name}` };
    case 'aws:ecs/cluster:Cluster':
      return { ...i, arn: `arn:aws:ecs:eu-west-1:123456789012:cluster/${i.name}` };
    case 'aws:ecs/taskDefinition:TaskDefinition': {
      const family = `arn:aws:ecs:eu-west-1:123456789012:task-definition/${i.family}`;
      return { ...i, arn: `${family}:1`, arnWithoutRevision: family, revision: 1 };
    }
    case 'aws:ec2/vpcEndpoint:VpcEndpoint':
      return { ...i, arn: arn('ec2', 'vpc-endpoint'), prefixListId: i.vpcEndpointType === 'Gateway' ? 'pl-6da54004' : undefined };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { ...i, arn: `arn:aws:logs:eu-west-1:123456789012:log-group:${i.name}` };
    case 'aws:cloudwatch/eventRule:EventRule':
      return { ...i, arn: `arn:aws:events:eu-west-1:123456789012:rule/${i.name}` };
    default:
      return { ...i, name: i.name ?? args.name, arn: arn('mock', args.type.split(':').pop() ?? 'resource') };
  }
}

/**
 * The region's zones as EC2 lists them: a Local Zone the account has opted into sorts before
 * the regular zones (`-` before letters), as `us-west-2-lax-1a` does before `us-west-2a`.
 */
const ZONES = [
  { name: 'eu-west-1-dub-1a', zoneId: 'euw1-dub1-az1', optInStatus: 'opted-in' },
  { name: 'eu-west-1a', zoneId: 'euw1-az1', optInStatus: 'opt-in-not-required' },
  { name: 'eu-west-1b', zoneId: 'euw1-az2', optInStatus: 'opt-in-not-required' },
  { name: 'eu-west-1c', zoneId: 'euw1-az3', optInStatus: 'opt-in-not-required' },
];

function mockCall(args: pulumi.runtime.MockCallArgs): Record<string, any> {
  switch (args.token) {
    case 'aws:index/getAvailabilityZones:getAvailabilityZones': {
      const filters = (args.inputs.filters ?? []) as Array<{ name: string; values: string[] }>;
      const zones = ZONES.filter((z) => filters.every((f) => f.name !== 'opt-in-status' || f.values.includes(z.optInStatus)));
      return { names: zones.map((z) => z.name), zoneIds: zones.map((z) => z.zoneId) };
    }
    case 'aws:ecr/getAuthorizationToken:getAuthorizationToken':
      return { userName: 'AWS', password: 'mock-ecr-token', proxyEndpoint: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com', authorizationToken: 'QVdTOm1vY2s=' };
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
/** Ops config defaults with the state folder in a temporary directory: the dev stack creates the history folder there, not in the repository. */
export function mockOpsConfig(raw?: unknown): OpsConfig {
  const state = path.join(os.tmpdir(), `pgsteward-mock-state-${process.pid}`);
  return parseOpsConfig(raw, { file: raw === undefined ? undefined : 'test.config.json', baseDir: state, stateDir: state });
}

export async function runStack(opts: { stack: string; config: Record<string, string>; migrationsDir?: string; behaviour?: MockBehaviour; ops?: OpsConfig }): Promise<StackRun> {
  const resources: Recorded[] = [];
  const calls: RecordedCall[] = [];
  const behaviour = opts.behaviour ?? {};
  const seen = new Map<string, { opts: ResourceOptionsSeen; urn: string }>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = unsecret(args.inputs) as Record<string, any>;
        const o = seen.get(`${args.type}::${args.name}`);
        resources.push({ type: args.type, name: args.name, inputs, raw: args.inputs as Record<string, any>, opts: o?.opts ?? NO_OPTS, urn: o?.urn ?? '' });
        return { id: `${args.name}-id`, state: mockState({ ...args, inputs }, behaviour) };
      },
      call(args) {
        calls.push({ token: args.token, inputs: unsecret(args.inputs) as Record<string, any> });
        return mockCall(args);
      },
    },
    'pgsteward',
    opts.stack,
    false,
  );
  // The mocks drop resource options; read them from the request the SDK sends the engine.
  const monitor0 = settings.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): unknown; newUrn(parent: string, type: string, name: string): string };
  const register = monitor0.registerResource.bind(monitor0);
  monitor0.registerResource = (req: RegisterRequest, cb: unknown) => {
    const timeouts = req.getCustomtimeouts();
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((v, k) => void (propertyDependencies[k] = v.getUrnsList()));
    seen.set(`${req.getType()}::${req.getName()}`, {
      urn: monitor0.newUrn(req.getParent(), req.getType(), req.getName()),
      opts: {
        protect: req.getProtect() === true,
        retainOnDelete: req.getRetainondelete() === true,
        deleteBeforeReplace: req.getDeletebeforereplace(),
        customTimeouts: timeouts && (timeouts.getCreate() || timeouts.getUpdate() || timeouts.getDelete()) ? { create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() } : undefined,
        dependencies: req.getDependenciesList(),
        propertyDependencies,
      },
    });
    return register(req, cb);
  };
  pulumi.runtime.setAllConfig(opts.config);
  const { program } = await import('../program.ts');
  const outputs = (await program({ ...(opts.migrationsDir ? { migrationsDir: opts.migrationsDir } : {}), ops: opts.ops ?? mockOpsConfig() })) as Record<string, unknown>;
  await waitForRPCs();
  const monitor = settings.getMonitor() as unknown as { resources?: Map<string, unknown> };
  const urns = [...(monitor.resources?.keys() ?? [])];
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  return {
    resources,
    calls,
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
