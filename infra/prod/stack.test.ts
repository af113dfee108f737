import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../core/config/target-settings.ts';
import { MIGRATIONS_DIR } from '../../core/paths.ts';
import { captureUnhandled, isSecretValue, resolveAll, runStack, type StackRun } from '../test/pulumi-mocks.ts';

const T = {
  vpc: 'aws:ec2/vpc:Vpc',
  subnet: 'aws:ec2/subnet:Subnet',
  routeTable: 'aws:ec2/routeTable:RouteTable',
  route: 'aws:ec2/route:Route',
  association: 'aws:ec2/routeTableAssociation:RouteTableAssociation',
  igw: 'aws:ec2/internetGateway:InternetGateway',
  nat: 'aws:ec2/natGateway:NatGateway',
  sg: 'aws:ec2/securityGroup:SecurityGroup',
  ingress: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
  egress: 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule',
  endpoint: 'aws:ec2/vpcEndpoint:VpcEndpoint',
  subnetGroup: 'aws:rds/subnetGroup:SubnetGroup',
  parameterGroup: 'aws:rds/parameterGroup:ParameterGroup',
  rds: 'aws:rds/instance:Instance',
  secret: 'aws:secretsmanager/secret:Secret',
  secretVersion: 'aws:secretsmanager/secretVersion:SecretVersion',
  fn: 'aws:lambda/function:Function',
  invocation: 'aws:lambda/invocation:Invocation',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  ec2: 'aws:ec2/instance:Instance',
};

const prod = (config: Record<string, string> = {}, extra: Partial<Parameters<typeof runStack>[0]> = {}) =>
  runStack({ stack: 'prod', config: { 'aws:region': 'eu-west-1', 'pgsteward:target': 'prod', ...config }, ...extra });

const idOf = (run: StackRun, type: string, name: string) => `${run.one(type, name).name}-id`;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-prod-stack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('prod stack (AWS)', async () => {
  const run = await prod();
  const [primary, ...replicas] = run.ofType(T.rds);
  const subnetIds = run.ofType(T.subnet).map((s) => `${s.name}-id`);

  it('declares every resource inside one of its components: network, server, bootstrap', () => {
    const custom = run.urns.filter((u) => !/::pgsteward:prod:\w+::/.test(u));
    expect(custom).toHaveLength(run.resources.filter((r) => !r.type.startsWith('pgsteward:')).length);
    const parents = new Set(custom.map((u) => /::(pgsteward:prod:\w+)\$/.exec(u)?.[1]));
    expect(parents).toEqual(new Set(['pgsteward:prod:Network', 'pgsteward:prod:DatabaseServer', 'pgsteward:prod:DatabaseBootstrap']));
  });

  it('builds private subnets in two availability zones, with no public addresses', () => {
    const subnets = run.ofType(T.subnet);
    expect(subnets).toHaveLength(2);
    expect(new Set(subnets.map((s) => s.inputs.availabilityZone))).toEqual(new Set(['eu-west-1a', 'eu-west-1b']));
    for (const s of subnets) {
      expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
      expect(s.inputs.tags['pgsteward:tier']).toBe('private');
    }
    expect(subnets.map((s) => s.inputs.cidrBlock)).toEqual(['10.42.0.0/20', '10.42.16.0/20']);
  });

  it('gives the private subnets no route to the internet', () => {
    expect(run.ofType(T.igw)).toEqual([]);
    expect(run.ofType(T.nat)).toEqual([]);
    expect(run.ofType(T.route)).toEqual([]);
    const table = run.one(T.routeTable);
    expect(table.inputs.routes).toEqual([]);
    const associations = run.ofType(T.association);
    expect(associations.map((a) => a.inputs.subnetId).sort()).toEqual([...subnetIds].sort());
    expect(new Set(associations.map((a) => a.inputs.routeTableId))).toEqual(new Set([`${table.name}-id`]));
    expect(run.one(T.subnetGroup).inputs.subnetIds.sort()).toEqual([...subnetIds].sort());
  });

  it('admits 5432 to the database only from the application security group, through rule resources', () => {
    const dbSg = idOf(run, T.sg, 'network-db-sg');
    const appSg = idOf(run, T.sg, 'network-app-sg');
    for (const sg of run.ofType(T.sg)) {
      expect(sg.inputs.ingress ?? []).toEqual([]);
      expect(sg.inputs.egress ?? []).toEqual([]);
    }
    const intoDb = run.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === dbSg);
    expect(intoDb).toHaveLength(1);
    expect(intoDb[0]!.inputs).toMatchObject({ referencedSecurityGroupId: appSg, ipProtocol: 'tcp', fromPort: 5432, toPort: 5432 });
    expect(intoDb[0]!.inputs.cidrIpv4).toBeUndefined();
    expect(intoDb[0]!.inputs.cidrIpv6).toBeUndefined();
    // No rule anywhere opens anything to an address range.
    for (const r of [...run.ofType(T.ingress), ...run.ofType(T.egress)]) {
      expect(r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6 ?? r.inputs.prefixListId).toBeUndefined();
    }
  });

  it('runs PostgreSQL 17 encrypted, private, deletion-protected, with a final snapshot and backups', () => {
    expect(replicas).toEqual([]);
    expect(primary!.inputs).toMatchObject({
      engine: 'postgres',
      engineVersion: '17',
      storageEncrypted: true,
      publiclyAccessible: false,
      deletionProtection: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: 'pgsteward-prod-db-final',
      backupRetentionPeriod: 7,
      performanceInsightsEnabled: true,
      multiAz: false,
      manageMasterUserPassword: true,
      identifier: 'pgsteward-prod-db',
    });
    expect(primary!.inputs.password).toBeUndefined();
    expect(primary!.inputs.dbSubnetGroupName).toBe('pgsteward-prod-db-subnets');
    expect(primary!.inputs.vpcSecurityGroupIds).toEqual([idOf(run, T.sg, 'network-db-sg')]);
  });

  it('forces TLS through a postgres17 parameter group sized from the pool budget', () => {
    const pg = run.one(T.parameterGroup);
    expect(pg.inputs.family).toBe('postgres17');
    const params = Object.fromEntries((pg.inputs.parameters as { name: string; value: string }[]).map((p) => [p.name, p.value]));
    expect(params['rds.force_ssl']).toBe('1');
    expect(params['max_connections']).toBe('25');
    expect(params['log_min_duration_statement']).toBe('500');
    expect(params['log_connections']).toBe('1');
    expect(primary!.inputs.parameterGroupName).toBe(pg.inputs.name);
  });

  it('keeps role passwords in Secrets Manager, as secrets', () => {
    const secrets = run.ofType(T.secret);
    expect(secrets.map((s) => s.inputs.namePrefix).sort()).toEqual(['pgsteward-prod/app_app-', 'pgsteward-prod/app_backup-', 'pgsteward-prod/app_migrator-', 'pgsteward-prod/app_readonly-']);
    for (const v of run.ofType(T.secretVersion)) {
      expect(isSecretValue(v.raw.secretString)).toBe(true);
      const doc = JSON.parse(v.inputs.secretString);
      expect(doc).toMatchObject({ engine: 'postgres', host: 'pgsteward-prod-db.c0ffee.eu-west-1.rds.amazonaws.com', port: 5432, dbname: 'app' });
      expect(doc.password).toMatch(/^[A-Za-z0-9]{20,}$/);
    }
  });

  it('runs the bootstrap Lambda in the private subnets with the application security group', () => {
    const fn = run.one(T.fn);
    expect(fn.inputs.vpcConfig.subnetIds.sort()).toEqual([...subnetIds].sort());
    expect(fn.inputs.vpcConfig.securityGroupIds).toEqual([idOf(run, T.sg, 'network-app-sg')]);
    expect(fn.inputs).toMatchObject({ runtime: 'nodejs22.x', handler: 'index.handler', architectures: ['arm64'], timeout: 300 });
    // Its only way to its secrets is the Secrets Manager endpoint in the same subnets.
    const endpoint = run.one(T.endpoint);
    expect(endpoint.inputs).toMatchObject({ serviceName: 'com.amazonaws.eu-west-1.secretsmanager', vpcEndpointType: 'Interface', privateDnsEnabled: true });
    expect(endpoint.inputs.subnetIds.sort()).toEqual([...subnetIds].sort());
  });

  it('configures the Lambda with the variables core resolves, and no password', () => {
    const vars = run.one(T.fn).inputs.environment.variables as Record<string, string>;
    expect(vars).toMatchObject({ DB_TARGET: 'prod', DB_NAME: 'app', DB_POOL_MAX: '10', DB_POOL_MIN: '2', DB_APP_INSTANCES: '1', PGSTEWARD_DB_SSLMODE: 'verify-full', NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' });
    expect(Object.keys(vars).filter((k) => /PASSWORD|DATABASE_URL/.test(k))).toEqual([]);
    expect(JSON.parse(vars.PGSTEWARD_ROLE_SECRET_ARNS!)).toEqual(Object.fromEntries(run.ofType(T.secret).map((s) => [s.name.replace(/^bootstrap-(.*)-secret$/, '$1'), expect.stringMatching(/^arn:aws:secretsmanager:/)])));
    // With DATABASE_URL added from the master secret, core accepts it as the prod target.
    const t = resolveTarget({}, { ...vars, DATABASE_URL: `postgres://pgsteward_admin:x@${vars.PGSTEWARD_DB_HOST}:5432/postgres?sslmode=verify-full` }, '/tmp');
    expect(t).toMatchObject({ kind: 'prod', database: 'app', pool: { max: 10, min: 2, instances: 1 } });
  });

  it('lets the Lambda read only its own secrets', () => {
    const policy = JSON.parse(run.one(T.rolePolicy).inputs.policy);
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0].Action).toEqual(['secretsmanager:GetSecretValue']);
    expect(policy.Statement[0].Resource).toHaveLength(5);
    expect(policy.Statement[0].Resource[0]).toMatch(/secret:rds!db-/);
  });

  it('invokes the Lambda with triggers keyed by migrations, role SQL, package and role passwords', async () => {
    const inv = run.one(T.invocation);
    const key = (await resolveAll(run.outputs.setupKey)) as string;
    expect(inv.inputs.functionName).toBe('pgsteward-prod-db-bootstrap');
    expect(JSON.parse(inv.inputs.input)).toEqual({ setupKey: key });
    expect(inv.inputs.triggers.setupKey).toBe(key);
    expect(inv.inputs.triggers.package).toMatch(/^[a-f0-9]{64}$/);
    expect(inv.inputs.triggers.rolePasswords.split(',')).toHaveLength(4);
    expect(await resolveAll((run.outputs.bootstrap as { result: unknown }).result)).toBe('applied 4, 0 already applied');
  });

  it('changes the invocation triggers when a migration changes', async () => {
    const dir = path.join(tmp, 'migrations');
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const before = (await prod({}, { migrationsDir: dir })).one(T.invocation).inputs.triggers;
    appendFileSync(path.join(dir, '0003_rbac.sql'), '\n-- a change\n');
    const after = (await prod({}, { migrationsDir: dir })).one(T.invocation).inputs.triggers;
    expect(before.setupKey).toBe(run.one(T.invocation).inputs.triggers.setupKey);
    expect(after.setupKey).not.toBe(before.setupKey);
    // The migrations ship inside the function's package, so its hash moves too.
    expect(after.package).not.toBe(before.package);
  });

  it('outputs per-role connection info with secret passwords, and the secret ARNs', async () => {
    const connections = run.outputs.connections as Record<string, pulumi.Output<unknown>>;
    for (const c of Object.values(connections)) expect(await pulumi.isSecret(c)).toBe(true);
    expect(await resolveAll(connections.app)).toMatchObject({ host: 'pgsteward-prod-db.c0ffee.eu-west-1.rds.amazonaws.com', port: 5432, database: 'app', user: 'app_app', sslmode: 'verify-full' });
    expect(Object.keys((await resolveAll(run.outputs.roleSecretArns)) as object).sort()).toEqual(['app', 'backup', 'migrator', 'readonly']);
    expect(run.outputs.bastionInstanceId).toBeUndefined();
  });
});

describe('prod stack options', () => {
  it('adds Multi-AZ, read replicas and more AZs from config', async () => {
    const run = await prod({ 'pgsteward:multiAz': 'true', 'pgsteward:readReplicas': '2', 'pgsteward:azCount': '3', 'pgsteward:backupRetentionDays': '14' });
    const [primary, ...replicas] = run.ofType(T.rds);
    expect(primary!.inputs).toMatchObject({ multiAz: true, backupRetentionPeriod: 14 });
    expect(replicas).toHaveLength(2);
    for (const r of replicas) {
      expect(r.inputs).toMatchObject({ replicateSourceDb: 'pgsteward-prod-db', publiclyAccessible: false, storageEncrypted: true, deletionProtection: true, parameterGroupName: 'pgsteward-prod-pg17' });
    }
    expect(run.ofType(T.subnet)).toHaveLength(3);
  });

  it('adds a private SSM bastion with the endpoints Session Manager needs', async () => {
    const run = await prod({ 'pgsteward:ssmBastion': 'true' });
    const bastion = run.one(T.ec2);
    expect(bastion.inputs).toMatchObject({ associatePublicIpAddress: false, instanceType: 't4g.nano', metadataOptions: { httpTokens: 'required' } });
    expect(bastion.inputs.vpcSecurityGroupIds).toEqual([idOf(run, T.sg, 'network-app-sg')]);
    expect(run.ofType(T.endpoint).map((e) => e.inputs.serviceName.split('.').pop()).sort()).toEqual(['ec2messages', 'secretsmanager', 'ssm', 'ssmmessages']);
  });

  it('fails the deployment when the bootstrap does not report success', async () => {
    let exported: unknown;
    await captureUnhandled(async () => {
      const run = await prod({}, { behaviour: { invocationResult: (input) => JSON.stringify({ ok: true, setupKey: `not-${input.setupKey}` }) } });
      exported = await resolveAll((run.outputs.bootstrap as { result: unknown }).result).catch((e: unknown) => e);
    });
    expect(pulumi.ResourceError.isInstance(exported)).toBe(true);
    expect((exported as Error).message).toMatch(/ran a different setup key than this deployment/);
  });
});
