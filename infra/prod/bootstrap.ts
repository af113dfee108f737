import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { LOGIN_ROLES, roleNames, type LoginRole } from '../../core/config/role-names.ts';
import type { PoolBudget } from '../../core/config/target-settings.ts';
import { LAMBDA_LAYOUT, type LambdaPackage } from '../build/bundle.ts';
import { judgeLambdaResult } from '../bootstrap-result.ts';
import { stackTags, type ProdNames, type TagContext } from '../naming.ts';
import { LAMBDA_ENV, setupSettingsEnv } from '../setup-env.ts';
import { pendingReboot, type PendingSetting, type RdsParameter } from '../sizing.ts';

export const LAMBDA_RUNTIME = aws.lambda.Runtime.NodeJS22dX;

export interface RebootStatus {
  /** True when the server runs with a static parameter the group has changed since. */
  required: boolean;
  settings: PendingSetting[];
  /** What to run (in a maintenance window) to apply them. */
  command: string;
}

export interface ProdBootstrapArgs {
  names: ProdNames;
  tags: TagContext;
  database: string;
  pool: PoolBudget;
  setupKey: string;
  passwordGeneration: number;
  /** The bundled handler, the RDS roots, the migrations and extension SQL, as built by build/bundle.ts. */
  package: LambdaPackage;
  /** The parameter group's values: the static ones are checked against the live server. */
  parameters: RdsParameter[];
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The function runs with the application security group: it reaches the database the way the app does. */
  securityGroupId: pulumi.Input<string>;
  db: {
    address: pulumi.Input<string>;
    port: pulumi.Input<number>;
    masterSecretArn: pulumi.Input<string>;
    resources: pulumi.Resource[];
  };
  /** The primary's identifier, for the reboot command. */
  dbIdentifier: pulumi.Input<string>;
  /** The Secrets Manager endpoint: without it the function has no way to its secrets. */
  dependsOn: pulumi.Resource[];
  timeoutSeconds: number;
  logRetentionDays: number;
  secretRecoveryDays: number;
}

/**
 * Roles and migrations, applied from inside the VPC: the login roles' passwords are
 * generated here and stored in Secrets Manager, and a Lambda in the private subnets runs
 * core's setupDatabase against RDS. An `aws.lambda.Invocation` calls it on every change of
 * the setup key (migrations + role SQL), of the function's package, or of a role password;
 * a FunctionError (the handler throws on any failure) fails the deployment.
 */
export class ProdBootstrap extends pulumi.ComponentResource {
  readonly passwords: Record<LoginRole, pulumi.Output<string>>;
  readonly secrets: Record<LoginRole, aws.secretsmanager.Secret>;
  readonly function: aws.lambda.Function;
  readonly invocation: aws.lambda.Invocation;
  /** The checked result summary: resolves when setup succeeded, or fails the deployment. */
  readonly result: pulumi.Output<string>;
  /** Whether the primary still waits for a reboot to take a static parameter, as measured by the last bootstrap run. */
  readonly rebootRequired: pulumi.Output<RebootStatus>;

  constructor(name: string, args: ProdBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pgsteward:prod:DatabaseBootstrap', name, {}, opts);
    const parent = { parent: this };
    const tags = stackTags(args.tags, 'bootstrap');
    const roles = roleNames(args.database);

    const passwords = {} as Record<LoginRole, pulumi.Output<string>>;
    const secrets = {} as Record<LoginRole, aws.secretsmanager.Secret>;
    const versions: aws.secretsmanager.SecretVersion[] = [];
    for (const role of LOGIN_ROLES) {
      const pw = new random.RandomPassword(`${name}-${role}-password`, { length: 32, special: false, keepers: { generation: String(args.passwordGeneration) } }, parent);
      passwords[role] = pulumi.secret(pw.result);
      secrets[role] = new aws.secretsmanager.Secret(
        `${name}-${role}-secret`,
        {
          namePrefix: args.names.roleSecretPrefix(roles[role]),
          description: `PostgreSQL login for ${roles[role]} on ${args.database}`,
          recoveryWindowInDays: args.secretRecoveryDays,
          tags: { ...tags, 'pgsteward:role': roles[role] },
        },
        parent,
      );
      // The shape RDS and its rotation functions use, so tools that read RDS secrets read these.
      versions.push(
        new aws.secretsmanager.SecretVersion(
          `${name}-${role}-secret-value`,
          {
            secretId: secrets[role].id,
            secretString: pulumi.secret(
              pulumi.jsonStringify({ engine: 'postgres', host: args.db.address, port: args.db.port, dbname: args.database, username: roles[role], password: passwords[role] }),
            ),
          },
          parent,
        ),
      );
    }
    this.passwords = passwords;
    this.secrets = secrets;

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: 'pgsteward database bootstrap function',
        assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
        tags,
      },
      parent,
    );
    // Logs, and the network interfaces a function in a VPC needs.
    const vpcAccess = new aws.iam.RolePolicyAttachment(
      `${name}-vpc-access`,
      { role: role.name, policyArn: aws.iam.ManagedPolicy.AWSLambdaVPCAccessExecutionRole },
      parent,
    );
    const secretAccess = new aws.iam.RolePolicy(
      `${name}-secrets`,
      {
        role: role.name,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'ReadDatabaseSecrets',
              Effect: 'Allow',
              Action: ['secretsmanager:GetSecretValue'],
              Resource: [args.db.masterSecretArn, ...LOGIN_ROLES.map((r) => secrets[r].arn)],
            },
          ],
        }),
      },
      parent,
    );

    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { name: args.names.lambdaLogGroup, retentionInDays: args.logRetentionDays, tags }, parent);

    // FileAsset keeps each repository file's exact bytes: sqlx checksums are over bytes, not text.
    const files: Record<string, pulumi.asset.Asset> = {};
    for (const f of args.package.files) files[f.path] = f.source ? new pulumi.asset.FileAsset(f.source) : new pulumi.asset.StringAsset(f.bytes.toString('utf8'));

    this.function = new aws.lambda.Function(
      `${name}-function`,
      {
        name: args.names.bootstrapFunction,
        description: 'Creates the least-privilege roles and applies the migrations (pgsteward setup-db)',
        role: role.arn,
        runtime: LAMBDA_RUNTIME,
        architectures: ['arm64'],
        handler: LAMBDA_LAYOUT.handler,
        code: new pulumi.asset.AssetArchive(files),
        memorySize: 256,
        timeout: args.timeoutSeconds,
        // No reserved concurrency: new accounts cannot reserve any (their limit is 10), and
        // concurrent runs are serialised by sqlx's advisory lock anyway.
        vpcConfig: { subnetIds: args.subnetIds, securityGroupIds: [args.securityGroupId] },
        environment: {
          variables: {
            ...setupSettingsEnv({ target: 'prod', database: args.database, pool: args.pool }),
            [LAMBDA_ENV.host]: args.db.address,
            [LAMBDA_ENV.port]: pulumi.output(args.db.port).apply(String),
            [LAMBDA_ENV.sslmode]: 'verify-full',
            // verify-full against the RDS roots in the package, passed as ssl.ca (see rds-ca.ts for why not the runtime's).
            [LAMBDA_ENV.caFile]: LAMBDA_LAYOUT.ca,
            [LAMBDA_ENV.masterSecretArn]: args.db.masterSecretArn,
            [LAMBDA_ENV.roleSecretArns]: pulumi.jsonStringify(Object.fromEntries(LOGIN_ROLES.map((r) => [r, secrets[r].arn]))),
          },
        },
        loggingConfig: { logFormat: 'Text', logGroup: logGroup.name },
        tags,
      },
      { ...parent, dependsOn: [logGroup, vpcAccess, secretAccess] },
    );

    const staticParameters = args.parameters.filter((p) => p.applyMethod === 'pending-reboot');
    this.invocation = new aws.lambda.Invocation(
      `${name}-run`,
      {
        functionName: this.function.name,
        input: JSON.stringify({ setupKey: args.setupKey, settings: staticParameters.map((p) => p.name) }),
        triggers: {
          setupKey: args.setupKey,
          package: args.package.sha256,
          // A rotated role password must reach the database: a new secret version re-runs setup.
          rolePasswords: pulumi.all(versions.map((v) => v.versionId)).apply((ids) => ids.join(',')),
          endpoint: pulumi.interpolate`${args.db.address}:${args.db.port}`,
          // A changed static parameter re-runs it, so rebootRequired is measured after every such change.
          staticParameters: staticParameters.map((p) => `${p.name}=${p.value}`).join(';'),
        },
      },
      // No customTimeouts: the provider ignores them for an Invocation; the function's own timeout is the limit.
      { ...parent, dependsOn: [this.function, ...versions, ...args.db.resources, ...args.dependsOn] },
    );

    const invocation = this.invocation;
    const verdict = invocation.result.apply((result) => {
      const v = judgeLambdaResult(result, args.setupKey);
      if (!v.ok) throw new pulumi.ResourceError(v.message, invocation, true);
      return v;
    });
    this.result = verdict.apply((v) => v.summary);
    this.rebootRequired = pulumi.all([verdict, args.dbIdentifier]).apply(([v, id]) => {
      const settings = pendingReboot(args.parameters, v.settings ?? {});
      return { required: settings.length > 0, settings, command: `aws rds reboot-db-instance --db-instance-identifier ${id}` };
    });
    // The checked result is exported by the stack (see dev/bootstrap.ts for why not here).
    this.registerOutputs({ function: this.function.name });
  }
}
