import { X509Certificate } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../core/config/target-settings.ts';
import { METRIC, METRIC_NAMESPACE } from '../../core/cron/metrics-contract.ts';
import { MIGRATIONS_DIR } from '../../core/paths.ts';
import { captureUnhandled, isSecretValue, mockOpsConfig, resolveAll, runStack, type Recorded, type StackRun } from '../test/pulumi-mocks.ts';

const T = {
  vpc: 'aws:ec2/vpc:Vpc',
  subnet: 'aws:ec2/subnet:Subnet',
  routeTable: 'aws:ec2/routeTable:RouteTable',
  route: 'aws:ec2/route:Route',
  association: 'aws:ec2/routeTableAssociation:RouteTableAssociation',
  igw: 'aws:ec2/internetGateway:InternetGateway',
  eigw: 'aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway',
  nat: 'aws:ec2/natGateway:NatGateway',
  eip: 'aws:ec2/eip:Eip',
  sg: 'aws:ec2/securityGroup:SecurityGroup',
  ingress: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
  egress: 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule',
  endpoint: 'aws:ec2/vpcEndpoint:VpcEndpoint',
  subnetGroup: 'aws:rds/subnetGroup:SubnetGroup',
  parameterGroup: 'aws:rds/parameterGroup:ParameterGroup',
  rds: 'aws:rds/instance:Instance',
  randomId: 'random:index/randomId:RandomId',
  secret: 'aws:secretsmanager/secret:Secret',
  secretVersion: 'aws:secretsmanager/secretVersion:SecretVersion',
  fn: 'aws:lambda/function:Function',
  invocation: 'aws:lambda/invocation:Invocation',
  role: 'aws:iam/role:Role',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  attachment: 'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
  ec2: 'aws:ec2/instance:Instance',
  bucket: 'aws:s3/bucket:Bucket',
  publicBlock: 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  ownership: 'aws:s3/bucketOwnershipControls:BucketOwnershipControls',
  versioning: 'aws:s3/bucketVersioning:BucketVersioning',
  sse: 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  lifecycle: 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  lock: 'aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration',
  bucketPolicy: 'aws:s3/bucketPolicy:BucketPolicy',
  key: 'aws:kms/key:Key',
  repo: 'aws:ecr/repository:Repository',
  image: 'docker:index/image:Image',
  cluster: 'aws:ecs/cluster:Cluster',
  task: 'aws:ecs/taskDefinition:TaskDefinition',
  schedule: 'aws:scheduler/schedule:Schedule',
  alarm: 'aws:cloudwatch/metricAlarm:MetricAlarm',
  rule: 'aws:cloudwatch/eventRule:EventRule',
  target: 'aws:cloudwatch/eventTarget:EventTarget',
  logGroup: 'aws:cloudwatch/logGroup:LogGroup',
  topic: 'aws:sns/topic:Topic',
  subscription: 'aws:sns/topicSubscription:TopicSubscription',
};

const prod = (config: Record<string, string> = {}, extra: Partial<Parameters<typeof runStack>[0]> = {}) =>
  runStack({ stack: 'prod', config: { 'aws:region': 'eu-west-1', 'pgsteward:target': 'prod', ...config }, ...extra });

const idOf = (run: StackRun, type: string, name: string) => `${run.one(type, name).name}-id`;
const urnOf = (run: StackRun, type: string, name: string) => run.one(type, name).urn;
const doc = (r: Recorded, key = 'policy') => JSON.parse(r.inputs[key]) as { Statement: Array<Record<string, any>> };
const byName = (run: StackRun, type: string) => Object.fromEntries(run.ofType(type).map((r) => [r.name, r]));
const containerOf = (task: Recorded) => (JSON.parse(task.inputs.containerDefinitions) as Array<Record<string, any>>)[0]!;
const envOf = (task: Recorded) => Object.fromEntries((containerOf(task).environment as { name: string; value: string }[]).map((e) => [e.name, e.value]));

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-prod-stack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('prod stack (AWS)', async () => {
  const run = await prod();
  const outputs = (await resolveAll(run.outputs)) as Record<string, any>;
  const [primary, ...replicas] = run.ofType(T.rds);
  const subnetIds = run.ofType(T.subnet).map((s) => `${s.name}-id`);
  const appSg = idOf(run, T.sg, 'network-app-sg');
  const tasks = byName(run, T.task);
  const schedules = byName(run, T.schedule);
  const bucket = run.one(T.bucket);
  const key = run.one(T.key);

  it('declares every resource inside one of its components', () => {
    const custom = run.urns.filter((u) => !/::pgsteward:prod:\w+::/.test(u));
    expect(custom).toHaveLength(run.resources.filter((r) => !r.type.startsWith('pgsteward:')).length);
    const parents = new Set(custom.map((u) => /::(pgsteward:prod:\w+)\$/.exec(u)?.[1]));
    expect(parents).toEqual(
      new Set(['pgsteward:prod:Network', 'pgsteward:prod:DatabaseServer', 'pgsteward:prod:DatabaseBootstrap', 'pgsteward:prod:BackupBucket', 'pgsteward:prod:Jobs', 'pgsteward:prod:Alarms']),
    );
  });

  it('builds private subnets in two regular availability zones, never a Local Zone, with no public addresses', () => {
    const subnets = run.ofType(T.subnet);
    expect(subnets).toHaveLength(2);
    // The mocked region lists an opted-in Local Zone first, as EC2 does; only the opt-in filter keeps it out.
    expect(subnets.map((s) => s.inputs.availabilityZone)).toEqual(['eu-west-1a', 'eu-west-1b']);
    const call = run.calls.find((c) => c.token === 'aws:index/getAvailabilityZones:getAvailabilityZones')!;
    expect(call.inputs.filters).toEqual([{ name: 'opt-in-status', values: ['opt-in-not-required'] }]);
    for (const s of subnets) {
      expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
      expect(s.inputs.tags['pgsteward:tier']).toBe('private');
    }
    expect(subnets.map((s) => s.inputs.cidrBlock)).toEqual(['10.42.0.0/20', '10.42.16.0/20']);
  });

  it('gives the private subnets no route to the internet: no gateway, no NAT, no route, only the S3 gateway endpoint', () => {
    for (const t of [T.igw, T.eigw, T.nat, T.eip, T.route]) expect(run.ofType(t)).toEqual([]);
    const table = run.one(T.routeTable);
    expect(table.inputs.routes).toEqual([]);
    const associations = run.ofType(T.association);
    expect(associations.map((a) => a.inputs.subnetId).sort()).toEqual([...subnetIds].sort());
    expect(new Set(associations.map((a) => a.inputs.routeTableId))).toEqual(new Set([`${table.name}-id`]));
    expect(run.one(T.subnetGroup).inputs.subnetIds.sort()).toEqual([...subnetIds].sort());
    // The one gateway in the VPC is S3's, attached to the private route table.
    const gateways = run.ofType(T.endpoint).filter((e) => e.inputs.vpcEndpointType === 'Gateway');
    expect(gateways).toHaveLength(1);
    expect(gateways[0]!.inputs).toMatchObject({ serviceName: 'com.amazonaws.eu-west-1.s3', routeTableIds: [`${table.name}-id`] });
  });

  it("reaches S3 through the gateway endpoint only for the backup bucket and ECR's image layers", () => {
    const s3 = run.ofType(T.endpoint).find((e) => e.inputs.vpcEndpointType === 'Gateway')!;
    const statements = doc(s3).Statement;
    expect(statements.find((s) => s.Sid === 'BackupBucket')!.Resource).toEqual([`arn:aws:s3:::${outputs.backupBucket}`, `arn:aws:s3:::${outputs.backupBucket}/*`]);
    expect(statements.find((s) => s.Sid === 'EcrImageLayers')).toMatchObject({ Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*'] });
    expect(statements.flatMap((s) => s.Action).some((a: string) => a.includes('*'))).toBe(false);
  });

  it('puts every AWS API the jobs and the bootstrap use behind a private interface endpoint in the private subnets', () => {
    const interfaces = run.ofType(T.endpoint).filter((e) => e.inputs.vpcEndpointType === 'Interface');
    expect(interfaces.map((e) => e.inputs.serviceName.replace('com.amazonaws.eu-west-1.', '')).sort()).toEqual(['ecr.api', 'ecr.dkr', 'logs', 'monitoring', 'secretsmanager']);
    for (const e of interfaces) {
      expect(e.inputs.privateDnsEnabled).toBe(true);
      expect(e.inputs.subnetIds.sort()).toEqual([...subnetIds].sort());
      expect(e.inputs.securityGroupIds).toEqual([idOf(run, T.sg, 'network-endpoints-sg')]);
    }
  });

  it('admits 5432 to the database only from the application group; the only address-list rule is HTTPS to S3', () => {
    const dbSg = idOf(run, T.sg, 'network-db-sg');
    for (const sg of run.ofType(T.sg)) {
      expect(sg.inputs.ingress ?? []).toEqual([]);
      expect(sg.inputs.egress ?? []).toEqual([]);
    }
    const intoDb = run.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === dbSg);
    expect(intoDb).toHaveLength(1);
    expect(intoDb[0]!.inputs).toMatchObject({ referencedSecurityGroupId: appSg, ipProtocol: 'tcp', fromPort: 5432, toPort: 5432 });
    const rules = [...run.ofType(T.ingress), ...run.ofType(T.egress)];
    expect(rules.filter((r) => r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6)).toEqual([]);
    const prefixed = rules.filter((r) => r.inputs.prefixListId);
    expect(prefixed.map((r) => r.inputs)).toEqual([expect.objectContaining({ securityGroupId: appSg, prefixListId: 'pl-6da54004', ipProtocol: 'tcp', fromPort: 443, toPort: 443 })]);
    // …and that prefix list is the S3 gateway endpoint's own.
    expect(prefixed[0]!.opts.propertyDependencies.prefixListId).toEqual([urnOf(run, T.endpoint, 'network-s3-endpoint')]);
  });

  it('runs PostgreSQL 17 encrypted, private, protected in AWS and in Pulumi, with its CA and a final snapshot', () => {
    expect(replicas).toEqual([]);
    expect(primary!.inputs).toMatchObject({
      engine: 'postgres',
      engineVersion: '17',
      storageEncrypted: true,
      publiclyAccessible: false,
      deletionProtection: true,
      skipFinalSnapshot: false,
      backupRetentionPeriod: 7,
      performanceInsightsEnabled: true,
      multiAz: false,
      manageMasterUserPassword: true,
      identifier: 'pgsteward-prod-db',
      caCertIdentifier: 'rds-ca-rsa2048-g1',
      applyImmediately: false,
    });
    expect(primary!.opts.protect).toBe(true);
    expect(primary!.inputs.password).toBeUndefined();
    expect(primary!.inputs.tags['pgsteward:decommission']).toBeUndefined();
    expect(primary!.inputs.dbSubnetGroupName).toBe('pgsteward-prod-db-subnets');
    expect(primary!.inputs.vpcSecurityGroupIds).toEqual([idOf(run, T.sg, 'network-db-sg')]);
  });

  it('names the final snapshot per instance lifetime, so a stack created again can be destroyed again', async () => {
    const id = run.one(T.randomId);
    expect(id.inputs).toMatchObject({ byteLength: 4, keepers: { identifier: 'pgsteward-prod-db' } });
    expect(primary!.inputs.finalSnapshotIdentifier).toMatch(/^pgsteward-prod-db-final-[0-9a-f]{8}$/);
    expect(primary!.opts.propertyDependencies.finalSnapshotIdentifier).toEqual([id.urn]);
    // A second stack life (destroy, then up again) draws a new name.
    const again = await prod();
    expect(again.one(T.rds).inputs.finalSnapshotIdentifier).not.toBe(primary!.inputs.finalSnapshotIdentifier);
    expect(outputs.finalSnapshotIdentifier).toBe(primary!.inputs.finalSnapshotIdentifier);
  });

  it('sets only non-default parameters: no rds.force_ssl or password_encryption (perpetual diff), pg_tle preloaded after the RDS default', () => {
    const pg = run.one(T.parameterGroup);
    expect(pg.inputs.family).toBe('postgres17');
    const params = Object.fromEntries((pg.inputs.parameters as { name: string; value: string }[]).map((p) => [p.name, p.value]));
    expect(params['rds.force_ssl']).toBeUndefined();
    expect(params['password_encryption']).toBeUndefined();
    expect(params['shared_preload_libraries']).toBe('pg_stat_statements,pg_tle');
    expect(params['max_connections']).toBe('25');
    expect(params['log_min_duration_statement']).toBe('500');
    expect(primary!.inputs.parameterGroupName).toBe(pg.inputs.name);
  });

  it('keeps role passwords in Secrets Manager, as secrets', () => {
    const secrets = run.ofType(T.secret);
    expect(secrets.map((s) => s.inputs.namePrefix).sort()).toEqual(['pgsteward-prod/app_app-', 'pgsteward-prod/app_backup-', 'pgsteward-prod/app_migrator-', 'pgsteward-prod/app_readonly-']);
    for (const v of run.ofType(T.secretVersion)) {
      expect(isSecretValue(v.raw.secretString)).toBe(true);
      const d = JSON.parse(v.inputs.secretString);
      expect(d).toMatchObject({ engine: 'postgres', host: 'pgsteward-prod-db.c0ffee.eu-west-1.rds.amazonaws.com', port: 5432, dbname: 'app' });
      expect(d.password).toMatch(/^[A-Za-z0-9]{20,}$/);
    }
  });

  it('runs the bootstrap Lambda in the private subnets, one folder down in its package so core finds migrations/ and extensions/', () => {
    const fn = run.one(T.fn);
    expect(fn.inputs.vpcConfig.subnetIds.sort()).toEqual([...subnetIds].sort());
    expect(fn.inputs.vpcConfig.securityGroupIds).toEqual([appSg]);
    expect(fn.inputs).toMatchObject({ runtime: 'nodejs22.x', handler: 'lambda/index.handler', architectures: ['arm64'], timeout: 300 });
  });

  it("ships the region's RDS roots in the package and verifies against them, not the runtime's bundle", async () => {
    const fn = run.one(T.fn);
    const vars = fn.inputs.environment.variables as Record<string, string>;
    expect(vars.PGSTEWARD_DB_SSLMODE).toBe('verify-full');
    expect(vars.PGSTEWARD_DB_CA_FILE).toBe('rds-ca.pem');
    expect(vars.NODE_EXTRA_CA_CERTS).toBeUndefined();
    const assets = (await fn.raw.code.assets) as Record<string, { text: Promise<string> }>;
    expect(Object.keys(assets)).toEqual(expect.arrayContaining(['lambda/index.mjs', 'rds-ca.pem', 'migrations/0001_uuidv7_and_timestamps.sql']));
    const pem = await assets['rds-ca.pem']!.text;
    const subjects = pem.split(/(?<=-----END CERTIFICATE-----\n)/).filter(Boolean).map((p) => new X509Certificate(p).subject.split('\n').find((l) => l.startsWith('CN=')));
    expect(subjects).toContain('CN=Amazon RDS eu-west-1 Root CA RSA2048 G1');
  });

  it('configures the Lambda with the variables core resolves, and no password', () => {
    const vars = run.one(T.fn).inputs.environment.variables as Record<string, string>;
    expect(vars).toMatchObject({ DB_TARGET: 'prod', DB_NAME: 'app', DB_POOL_MAX: '10', DB_POOL_MIN: '2', DB_APP_INSTANCES: '1' });
    expect(Object.keys(vars).filter((k) => /PASSWORD|DATABASE_URL/.test(k))).toEqual([]);
    const t = resolveTarget({}, { ...vars, DATABASE_URL: `postgres://pgsteward_admin:x@${vars.PGSTEWARD_DB_HOST}:5432/postgres?sslmode=verify-full` }, '/tmp');
    expect(t).toMatchObject({ kind: 'prod', database: 'app', pool: { max: 10, min: 2, instances: 1 } });
  });

  it('lets the Lambda read only its own secrets', () => {
    const policy = doc(run.one(T.rolePolicy, 'bootstrap-secrets'));
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0]!.Action).toEqual(['secretsmanager:GetSecretValue']);
    expect(policy.Statement[0]!.Resource).toHaveLength(5);
    expect(policy.Statement[0]!.Resource[0]).toMatch(/secret:rds!db-/);
  });

  it('invokes the Lambda on changes of migrations, package, passwords and static parameters, without the ignored customTimeouts', async () => {
    const inv = run.one(T.invocation);
    expect(inv.inputs.functionName).toBe('pgsteward-prod-db-bootstrap');
    expect(JSON.parse(inv.inputs.input)).toEqual({ setupKey: outputs.setupKey, settings: ['max_connections', 'shared_preload_libraries'] });
    expect(inv.inputs.triggers).toMatchObject({ setupKey: outputs.setupKey, staticParameters: 'max_connections=25;shared_preload_libraries=pg_stat_statements,pg_tle' });
    expect(inv.inputs.triggers.package).toMatch(/^[a-f0-9]{64}$/);
    expect(inv.inputs.triggers.rolePasswords.split(',')).toHaveLength(4);
    expect(inv.opts.customTimeouts).toBeUndefined();
  });

  it('changes the invocation triggers when a migration changes', async () => {
    const dir = path.join(tmp, 'migrations');
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const before = (await prod({}, { migrationsDir: dir })).one(T.invocation).inputs.triggers;
    appendFileSync(path.join(dir, '0003_rbac.sql'), '\n-- a change\n');
    const after = (await prod({}, { migrationsDir: dir })).one(T.invocation).inputs.triggers;
    expect(before.setupKey).toBe(run.one(T.invocation).inputs.triggers.setupKey);
    expect(after.setupKey).not.toBe(before.setupKey);
    expect(after.package).not.toBe(before.package);
  });

  it('keeps backups in a versioned, owner-enforced, KMS-encrypted bucket closed to the public, kept with its key after a destroy', () => {
    expect(bucket.inputs).toMatchObject({ bucketPrefix: 'pgsteward-prod-backups-', objectLockEnabled: true, forceDestroy: false });
    expect(bucket.opts.retainOnDelete).toBe(true);
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(key.opts.retainOnDelete).toBe(true);
    const bucketId = `${bucket.name}-id`;
    expect(run.one(T.publicBlock).inputs).toEqual({ bucket: bucketId, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(run.one(T.ownership).inputs).toEqual({ bucket: bucketId, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    expect(run.one(T.versioning).inputs).toEqual({ bucket: bucketId, versioningConfiguration: { status: 'Enabled' } });
    expect(run.one(T.sse).inputs.rules).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: outputs.backupKeyArn }, bucketKeyEnabled: true }]);
    const rules = run.one(T.lifecycle).inputs.rules as Array<Record<string, any>>;
    expect(rules.find((r) => r.id === 'expire-noncurrent-versions')).toMatchObject({ status: 'Enabled', noncurrentVersionExpiration: { noncurrentDays: 30 } });
    // Without backupLockDays there is no default retention.
    expect(run.ofType(T.lock)).toEqual([]);
  });

  it('denies non-TLS requests and uploads not encrypted with the stack key, in a way multipart uploads survive', () => {
    const statements = doc(run.one(T.bucketPolicy)).Statement;
    const bucketArn = `arn:aws:s3:::${outputs.backupBucket}`;
    expect(statements.find((s) => s.Sid === 'DenyInsecureTransport')).toEqual({
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [bucketArn, `${bucketArn}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(statements.find((s) => s.Sid === 'DenyOtherEncryption')!.Condition).toEqual({ StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } });
    expect(statements.find((s) => s.Sid === 'DenyOtherKmsKey')!.Condition).toEqual({ StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': outputs.backupKeyArn } });
    // UploadPart requests carry no SSE header: no statement may deny PutObject merely for its absence.
    for (const s of statements) expect(s.Condition?.Null?.['s3:x-amz-server-side-encryption']).toBeUndefined();
  });

  it('stores the runner image in a scan-on-push repository with immutable, content-derived tags', () => {
    const repo = run.one(T.repo);
    expect(repo.inputs).toMatchObject({ name: 'pgsteward-prod/runner', imageTagMutability: 'IMMUTABLE', imageScanningConfiguration: { scanOnPush: true }, forceDelete: false });
    const image = run.one(T.image);
    expect(image.inputs.imageName).toMatch(/^123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/pgsteward-prod\/runner:c-[0-9a-f]{16}$/);
    expect(image.inputs.build).toMatchObject({ dockerfile: expect.stringMatching(/infra\/docker\/runner\/Dockerfile$/), platform: 'linux/amd64' });
    expect(image.inputs.skipPush).toBe(false);
    expect(isSecretValue(image.raw.registry?.password) || isSecretValue(image.raw.registry)).toBe(true);
  });

  it('runs backup and verify as Fargate tasks with the right command, the pushed image, a read-only root, and no password', () => {
    expect(Object.keys(tasks).sort()).toEqual(['jobs-backup-task', 'jobs-verify-task']);
    const image = run.one(T.image);
    for (const [job, t] of [['backup', tasks['jobs-backup-task']!], ['verify', tasks['jobs-verify-task']!]] as const) {
      expect(t.inputs).toMatchObject({ family: `pgsteward-prod-${job}`, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' } });
      const c = containerOf(t);
      expect(c.command).toEqual(['cron', '--once', job, '--target', 'prod']);
      expect(c.image).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(t.opts.propertyDependencies.containerDefinitions).toContain(image.urn);
      expect(c.readonlyRootFilesystem).toBe(true);
      expect(c.mountPoints).toEqual([{ sourceVolume: 'scratch', containerPath: '/tmp', readOnly: false }]);
      expect(c.logConfiguration).toEqual({ logDriver: 'awslogs', options: { 'awslogs-group': '/pgsteward/pgsteward-prod/jobs', 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': job } });
      const env = envOf(t);
      expect(Object.keys(env).filter((k) => /PASSWORD|DATABASE_URL/.test(k))).toEqual([]);
      expect(env).toMatchObject({ DB_TARGET: 'prod', DB_NAME: 'app', PGSTEWARD_DB_SSLMODE: 'verify-full', PGSTEWARD_METRICS: 'cloudwatch', PGSTEWARD_METRICS_STACK: 'prod', PGSTEWARD_DB_HOST: outputs.endpoint });
    }
    expect(envOf(tasks['jobs-backup-task']!)).toMatchObject({ PGSTEWARD_DB_SECRET_ARN: outputs.roleSecretArns.backup, PGSTEWARD_DB_SECRET_ROLE: 'backup' });
    expect(envOf(tasks['jobs-verify-task']!)).toMatchObject({ PGSTEWARD_DB_SECRET_ARN: outputs.masterSecretArn, PGSTEWARD_DB_SECRET_ROLE: 'admin' });
  });

  it('hands the jobs an ops config whose prod storage is the stack bucket under the stack key', () => {
    const ops = JSON.parse(envOf(tasks['jobs-backup-task']!).PGSTEWARD_OPS_CONFIG!);
    expect(ops.backups.targets.prod.storage).toEqual({ type: 's3', bucket: outputs.backupBucket, prefix: 'pgsteward', region: 'eu-west-1', sse: 'aws:kms', kmsKeyId: outputs.backupKeyArn });
    expect(ops.backups.targets.prod.retention).toEqual({ keepLast: 7, daily: 7, weekly: 4, monthly: 6, minAgeHours: 24 });
    expect(outputs.backupPrefix).toBe('pgsteward/prod/app/');
  });

  it('starts each task from EventBridge Scheduler on the config schedule: its own task definition, private subnets, no public IP', () => {
    expect(Object.keys(schedules).sort()).toEqual(['jobs-backup-schedule', 'jobs-verify-schedule']);
    const cluster = run.one(T.cluster);
    const expected = { backup: 'cron(15 3 * * ? *)', verify: 'cron(45 4 ? * 1 *)' } as const;
    for (const job of ['backup', 'verify'] as const) {
      const s = schedules[`jobs-${job}-schedule`]!;
      expect(s.inputs).toMatchObject({ name: `pgsteward-prod-${job}`, scheduleExpression: expected[job], scheduleExpressionTimezone: 'UTC', flexibleTimeWindow: { mode: 'OFF' }, state: 'ENABLED' });
      expect(s.inputs.target.arn).toBe(`arn:aws:ecs:eu-west-1:123456789012:cluster/${cluster.inputs.name}`);
      const ecs = s.inputs.target.ecsParameters;
      expect(ecs.taskDefinitionArn).toBe(`arn:aws:ecs:eu-west-1:123456789012:task-definition/pgsteward-prod-${job}:1`);
      expect(ecs).toMatchObject({ launchType: 'FARGATE', taskCount: 1, networkConfiguration: { assignPublicIp: false, securityGroups: [appSg] } });
      expect(ecs.networkConfiguration.subnets.sort()).toEqual([...subnetIds].sort());
      expect(s.inputs.target.roleArn).toBe('arn:aws:iam::123456789012:role/jobs-scheduler-role');
    }
  });

  it('gives each task role exactly its secret, the bucket prefix, the key and its metrics, with no wildcard action', () => {
    const policies = byName(run, T.rolePolicy);
    const backup = doc(policies['jobs-backup-task-policy']!).Statement;
    const verify = doc(policies['jobs-verify-task-policy']!).Statement;
    const objects = `arn:aws:s3:::${outputs.backupBucket}/pgsteward/prod/app/*`;
    const sid = (st: Array<Record<string, any>>, id: string) => st.find((s) => s.Sid === id)!;
    expect(sid(backup, 'DatabaseSecret')).toMatchObject({ Action: ['secretsmanager:GetSecretValue'], Resource: [outputs.roleSecretArns.backup] });
    expect(sid(verify, 'DatabaseSecret')).toMatchObject({ Action: ['secretsmanager:GetSecretValue'], Resource: [outputs.masterSecretArn] });
    for (const st of [backup, verify]) {
      expect(sid(st, 'ListBackupPrefix')).toEqual({ Sid: 'ListBackupPrefix', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${outputs.backupBucket}`], Condition: { StringLike: { 's3:prefix': ['pgsteward/prod/app/*'] } } });
      expect(sid(st, 'BackupObjects').Resource).toEqual([objects]);
      expect(sid(st, 'BackupKey')).toMatchObject({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: [outputs.backupKeyArn] });
      expect(sid(st, 'JobMetrics')).toMatchObject({ Action: ['cloudwatch:PutMetricData'], Condition: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } } });
    }
    // Only the backup job (and its retention) deletes; neither may touch object versions or lock bypass.
    expect(sid(backup, 'BackupObjects').Action).toContain('s3:DeleteObject');
    expect(sid(verify, 'BackupObjects').Action).not.toContain('s3:DeleteObject');
    for (const r of run.ofType(T.rolePolicy)) {
      const actions = doc(r).Statement.flatMap((s) => [s.Action ?? []].flat()) as string[];
      expect(actions.filter((a) => a.includes('*') || /DeleteObjectVersion|BypassGovernance/.test(a))).toEqual([]);
    }
    // Task roles carry no managed policy whose actions we could not check.
    const taskRoleNames = run.ofType(T.role).filter((r) => r.inputs.assumeRolePolicy.includes('ecs-tasks')).map((r) => `${r.name}-role`);
    expect(run.ofType(T.attachment).filter((a) => taskRoleNames.includes(a.inputs.role))).toEqual([]);
  });

  it('lets the execution role pull this image and write this log group only, and the scheduler run only these tasks', () => {
    const policies = byName(run, T.rolePolicy);
    expect(doc(policies['jobs-execution-policy']!).Statement.map((s) => [s.Action, s.Resource])).toEqual([
      [['ecr:GetAuthorizationToken'], ['*']],
      [['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'], ['arn:aws:ecr:eu-west-1:123456789012:repository/pgsteward-prod/runner']],
      [['logs:CreateLogStream', 'logs:PutLogEvents'], ['arn:aws:logs:eu-west-1:123456789012:log-group:/pgsteward/pgsteward-prod/jobs:*']],
    ]);
    const scheduler = doc(policies['jobs-backup-scheduler-policy']!).Statement;
    expect(scheduler[0]).toMatchObject({ Action: ['ecs:RunTask'], Resource: ['arn:aws:ecs:eu-west-1:123456789012:task-definition/pgsteward-prod-backup:*'], Condition: { ArnEquals: { 'ecs:cluster': expect.stringMatching(/:cluster\/pgsteward-prod-jobs$/) } } });
    expect(scheduler[1]).toMatchObject({ Action: ['iam:PassRole'], Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } });
  });

  it('alarms when no successful backup was recorded for backupRpoHours, silence included', () => {
    const alarms = byName(run, T.alarm);
    expect(alarms['alarms-backup-missing']!.inputs).toMatchObject({
      namespace: METRIC_NAMESPACE,
      metricName: METRIC.backupSucceeded,
      dimensions: { Stack: 'prod', Database: 'app' },
      statistic: 'Sum',
      period: 3600,
      evaluationPeriods: 26,
      datapointsToAlarm: 26,
      threshold: 1,
      comparisonOperator: 'LessThanThreshold',
      treatMissingData: 'breaching',
      tags: expect.objectContaining({ 'pgsteward:schedule': 'pgsteward-prod-backup' }),
    });
    // A weekly verify is further apart than CloudWatch looks back (7 days): its failures alarm, its silence is the task alarm's.
    expect(alarms['alarms-verify-missing']).toBeUndefined();
    expect(alarms['alarms-verify-failed']!.inputs).toMatchObject({ metricName: METRIC.verifyFailed, threshold: 1, comparisonOperator: 'GreaterThanOrEqualToThreshold', treatMissingData: 'notBreaching' });
  });

  it('alarms when a job task exits non-zero or fails to start, from an EventBridge rule that also keeps the failure history', () => {
    const rules = byName(run, T.rule);
    const alarms = byName(run, T.alarm);
    for (const job of ['backup', 'verify']) {
      const rule = rules[`alarms-${job}-task-failed-rule`]!;
      const pattern = JSON.parse(rule.inputs.eventPattern);
      expect(pattern).toMatchObject({ source: ['aws.ecs'], 'detail-type': ['ECS Task State Change'] });
      expect(pattern.detail.clusterArn).toEqual([expect.stringMatching(/:cluster\/pgsteward-prod-jobs$/)]);
      expect(pattern.detail.taskDefinitionArn).toEqual([{ prefix: `arn:aws:ecs:eu-west-1:123456789012:task-definition/pgsteward-prod-${job}:` }]);
      expect(pattern.detail.$or).toEqual([{ containers: { exitCode: [{ 'anything-but': 0 }] } }, { stopCode: ['TaskFailedToStart'] }]);
      const alarm = alarms[`alarms-${job}-task-failed`]!;
      expect(alarm.inputs).toMatchObject({ namespace: 'AWS/Events', metricName: 'TriggeredRules', dimensions: { RuleName: rule.inputs.name }, comparisonOperator: 'GreaterThanOrEqualToThreshold', treatMissingData: 'notBreaching' });
      expect(alarm.inputs.tags['pgsteward:schedule']).toBe(`pgsteward-prod-${job}`);
    }
    const failureLog = run.one(T.logGroup, 'alarms-failure-logs');
    for (const t of run.ofType(T.target)) expect(t.inputs.arn).toBe(`arn:aws:logs:eu-west-1:123456789012:log-group:${failureLog.inputs.name}`);
    expect(run.ofType(T.topic)).toEqual([]);
    for (const a of run.ofType(T.alarm)) expect(a.inputs.alarmActions).toBeUndefined();
  });

  it('reports whether the primary still waits for a reboot, computed from what the bootstrap measured', async () => {
    // The default mock reports no live settings: nothing to judge, so no reboot is claimed.
    expect(outputs.rebootRequired).toEqual({ required: false, settings: [], command: 'aws rds reboot-db-instance --db-instance-identifier pgsteward-prod-db' });
    const stale = await prod({}, { behaviour: { liveSettings: { max_connections: '100', shared_preload_libraries: 'pg_stat_statements' } } });
    expect(await resolveAll(stale.outputs.rebootRequired)).toMatchObject({
      required: true,
      settings: [
        { name: 'max_connections', live: '100', wanted: '25' },
        { name: 'shared_preload_libraries', live: 'pg_stat_statements', wanted: 'pg_stat_statements,pg_tle' },
      ],
    });
    const current = await prod({ 'pgsteward:poolMax': '20' }, { behaviour: { liveSettings: { max_connections: '35', shared_preload_libraries: 'rdsutils,pg_stat_statements,pg_tle' } } });
    expect(await resolveAll(current.outputs.rebootRequired)).toMatchObject({ required: false, settings: [] });
  });

  it('outputs per-role connection info with secret passwords, the secret ARNs and the backup locations', async () => {
    const connections = run.outputs.connections as Record<string, pulumi.Output<unknown>>;
    for (const c of Object.values(connections)) expect(await pulumi.isSecret(c)).toBe(true);
    expect(outputs.connections.app).toMatchObject({ host: 'pgsteward-prod-db.c0ffee.eu-west-1.rds.amazonaws.com', port: 5432, database: 'app', user: 'app_app', sslmode: 'verify-full' });
    expect(Object.keys(outputs.roleSecretArns).sort()).toEqual(['app', 'backup', 'migrator', 'readonly']);
    expect(outputs.backupBucket).toMatch(/^pgsteward-prod-backups-/);
    expect(outputs.jobs).toEqual({
      backup: { schedule: 'cron(15 3 * * ? *)', timezone: 'UTC', command: 'cron --once backup --target prod', taskDefinition: 'pgsteward-prod-backup' },
      verify: { schedule: 'cron(45 4 ? * 1 *)', timezone: 'UTC', command: 'cron --once verify --target prod', taskDefinition: 'pgsteward-prod-verify' },
    });
    expect(outputs.bastionInstanceId).toBeUndefined();
  });
});

describe('prod stack options', () => {
  it('adds Multi-AZ and read replicas with a stack-held master password; replicas inherit engine and encryption', async () => {
    const run = await prod({ 'pgsteward:multiAz': 'true', 'pgsteward:readReplicas': '2', 'pgsteward:masterPasswordSource': 'stack', 'pgsteward:azCount': '3' });
    const outputs = (await resolveAll(run.outputs)) as Record<string, any>;
    const [primary, ...replicas] = run.ofType(T.rds);
    expect(primary!.inputs).toMatchObject({ multiAz: true, engine: 'postgres', storageEncrypted: true });
    expect(primary!.inputs.manageMasterUserPassword).toBeUndefined();
    expect(isSecretValue(primary!.raw.password)).toBe(true);
    const master = run.one(T.secret, 'database-master-secret');
    expect(master.inputs.namePrefix).toBe('pgsteward-prod/master-');
    expect(outputs.masterSecretArn).toMatch(/secret:pgsteward-prod\/master-/);
    const masterValue = JSON.parse(run.one(T.secretVersion, 'database-master-secret-value').inputs.secretString);
    expect(masterValue).toEqual({ username: 'pgsteward_admin', password: primary!.inputs.password });
    // The bootstrap reads that secret.
    expect(doc(run.one(T.rolePolicy, 'bootstrap-secrets')).Statement[0]!.Resource[0]).toBe(outputs.masterSecretArn);
    expect(replicas).toHaveLength(2);
    for (const r of replicas) {
      expect(r.inputs).toMatchObject({ replicateSourceDb: 'pgsteward-prod-db', publiclyAccessible: false, deletionProtection: true, parameterGroupName: 'pgsteward-prod-pg17' });
      expect(r.inputs.engine).toBeUndefined();
      expect(r.inputs.engineVersion).toBeUndefined();
      expect(r.inputs.storageEncrypted).toBeUndefined();
      expect(r.inputs.password).toBeUndefined();
      // RDS creates replicas unprotected whatever deletionProtection says; Pulumi's protect covers the gap.
      expect(r.opts.protect).toBe(true);
    }
    expect(run.ofType(T.subnet)).toHaveLength(3);
  });

  it('decommissions on request: AWS and Pulumi protection off, the instance tagged so the policy lets it go', async () => {
    const run = await prod({ 'pgsteward:decommission': 'true' });
    const primary = run.one(T.rds);
    expect(primary.inputs.deletionProtection).toBe(false);
    expect(primary.opts.protect).toBe(false);
    expect(primary.inputs.tags['pgsteward:decommission']).toBe('true');
    expect(primary.inputs.skipFinalSnapshot).toBe(false);
    // The backups stay: the bucket and its key are retained whatever happens to the database.
    expect(run.one(T.bucket).opts.retainOnDelete).toBe(true);
  });

  it('applies instance changes immediately only when asked', async () => {
    expect((await prod({ 'pgsteward:applyImmediately': 'true' })).one(T.rds).inputs.applyImmediately).toBe(true);
  });

  it('locks backup objects in governance mode when backupLockDays is set', async () => {
    const run = await prod({ 'pgsteward:backupLockDays': '14', 'pgsteward:backupNoncurrentDays': '60' });
    expect(run.one(T.lock).inputs).toMatchObject({ objectLockEnabled: 'Enabled', rule: { defaultRetention: { mode: 'GOVERNANCE', days: 14 } } });
    expect((run.one(T.lifecycle).inputs.rules as Array<Record<string, any>>)[0]!.noncurrentVersionExpiration).toEqual({ noncurrentDays: 60 });
  });

  it('notifies an e-mail address through SNS from every alarm, when configured', async () => {
    const run = await prod({ 'pgsteward:alarmEmail': 'ops@example.com' });
    const topic = run.one(T.topic);
    expect(run.one(T.subscription).inputs).toMatchObject({ protocol: 'email', endpoint: 'ops@example.com' });
    const topicArn = `arn:aws:mock:eu-west-1:123456789012:Topic:${topic.inputs.name}`;
    for (const a of run.ofType(T.alarm)) expect(a.inputs.alarmActions).toEqual([topicArn]);
  });

  it('follows the config: a daily verify gets a freshness alarm, a disabled backup no schedule, no task and no alarm', async () => {
    const run = await prod({}, { ops: mockOpsConfig({ cron: { timezone: 'Europe/Berlin', jobs: { backup: { enabled: false }, verify: { schedule: '30 5 * * *' } } } }) });
    expect(run.ofType(T.schedule).map((s) => [s.inputs.name, s.inputs.scheduleExpression, s.inputs.scheduleExpressionTimezone])).toEqual([['pgsteward-prod-verify', 'cron(30 5 * * ? *)', 'Europe/Berlin']]);
    expect(run.ofType(T.task).map((t) => t.inputs.family)).toEqual(['pgsteward-prod-verify']);
    const alarms = byName(run, T.alarm);
    expect(Object.keys(alarms).sort()).toEqual(['alarms-verify-failed', 'alarms-verify-missing', 'alarms-verify-task-failed']);
    // 24 h between runs (23 or 25 across a DST change in Berlin) plus an hour for the run itself.
    expect(alarms['alarms-verify-missing']!.inputs).toMatchObject({ metricName: METRIC.verifySucceeded, evaluationPeriods: 26, treatMissingData: 'breaching' });
  });

  it('refuses an RPO shorter than the backup schedule allows, and a schedule EventBridge cannot express', async () => {
    await expect(prod({ 'pgsteward:backupRpoHours': '12' })).rejects.toThrow(/pgsteward:backupRpoHours \(12\) is shorter than the longest wait between scheduled backups plus an hour \(25 h/);
    await expect(prod({}, { ops: mockOpsConfig({ cron: { jobs: { backup: { schedule: '0 3 1 * 1' } } } }) })).rejects.toThrow(/restricts both the day of the month and the day of the week/);
  });

  it('adds a private SSM bastion with the endpoints Session Manager needs', async () => {
    const run = await prod({ 'pgsteward:ssmBastion': 'true' });
    const bastion = run.one(T.ec2);
    expect(bastion.inputs).toMatchObject({ associatePublicIpAddress: false, instanceType: 't4g.nano', metadataOptions: { httpTokens: 'required' } });
    expect(bastion.inputs.vpcSecurityGroupIds).toEqual([idOf(run, T.sg, 'network-app-sg')]);
    expect(run.ofType(T.endpoint).map((e) => e.inputs.serviceName.split('.').slice(3).join('.')).sort()).toEqual(['ec2messages', 'ecr.api', 'ecr.dkr', 'logs', 'monitoring', 's3', 'secretsmanager', 'ssm', 'ssmmessages']);
  });

  it('refuses to deploy without a region', async () => {
    await expect(runStack({ stack: 'prod', config: { 'pgsteward:target': 'prod' } })).rejects.toThrow(/the prod stack has no AWS region/);
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
