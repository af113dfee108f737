import * as pulumi from '@pulumi/pulumi';
import { LOGIN_ROLES, roleNames, type LoginRole } from '../../core/config/role-names.ts';
import { lambdaPackage } from '../build/bundle.ts';
import type { ProdConfig } from '../config.ts';
import type { StackContext } from '../stack-context.ts';
import { prodNames, stackPrefix, type TagContext } from '../naming.ts';
import { connectionBudget, rdsParameters, RESERVED_CONNECTIONS } from '../sizing.ts';
import { SSM_ENDPOINT_SERVICES, SsmBastion } from './bastion.ts';
import { ProdBootstrap } from './bootstrap.ts';
import { ProdDatabaseServer } from './database-server.ts';
import { ProdNetwork } from './network.ts';

/** RDS enforces TLS (rds.force_ssl); verify-full checks the server against the RDS CA. */
export const PROD_SSLMODE = 'verify-full';

/**
 * The prod stack: a private VPC, RDS for PostgreSQL 17, role secrets and the bootstrap
 * Lambda, and (only when configured) an SSM bastion for operators.
 */
export async function prodStack(cfg: ProdConfig, ctx: StackContext) {
  const prefix = stackPrefix(ctx.project, ctx.stack);
  const names = prodNames(prefix);
  const tags: TagContext = { project: ctx.project, stack: ctx.stack, target: 'prod', database: cfg.database };
  const budget = connectionBudget(cfg.pool, cfg.opsConnections, RESERVED_CONNECTIONS.rds);
  // Bundled before any resource is declared: a build failure stops the preview, not the deploy.
  const pkg = await lambdaPackage(ctx.migrationsDir);

  const network = new ProdNetwork('network', {
    names,
    tags,
    vpcCidr: cfg.vpcCidr,
    azCount: cfg.azCount,
    endpointServices: ['secretsmanager', ...(cfg.ssmBastion ? SSM_ENDPOINT_SERVICES : [])],
  });
  const server = new ProdDatabaseServer('database', {
    names,
    tags,
    config: cfg,
    parameters: rdsParameters({ maxConnections: budget.total, slowStatementMs: cfg.slowStatementMs }),
    subnetGroupName: network.subnetGroup.name,
    securityGroupId: network.databaseSecurityGroup.id,
  });
  const bootstrap = new ProdBootstrap('bootstrap', {
    names,
    tags,
    database: cfg.database,
    pool: cfg.pool,
    setupKey: ctx.setupKey,
    passwordGeneration: cfg.passwordGeneration,
    package: pkg,
    migrationsDir: ctx.migrationsDir,
    subnetIds: network.subnetIds,
    securityGroupId: network.appSecurityGroup.id,
    db: { address: server.address, port: server.port, masterSecretArn: server.masterSecretArn, resources: [server.instance] },
    dependsOn: network.endpoints,
    timeoutSeconds: cfg.bootstrapTimeoutSeconds,
    logRetentionDays: cfg.logRetentionDays,
    secretRecoveryDays: cfg.secretRecoveryDays,
  });
  const bastion = cfg.ssmBastion
    ? new SsmBastion('bastion', { tags, subnetId: network.subnets[0]!.id, securityGroupId: network.appSecurityGroup.id }, { dependsOn: network.endpoints })
    : undefined;

  const roles = roleNames(cfg.database);
  const connections = Object.fromEntries(
    LOGIN_ROLES.map((r) => [
      r,
      pulumi.secret(
        pulumi.all([server.address, server.port, bootstrap.passwords[r], bootstrap.secrets[r].arn]).apply(([host, port, password, secretArn]) => ({
          host,
          port,
          database: cfg.database,
          user: roles[r],
          sslmode: PROD_SSLMODE,
          secretArn,
          password,
        })),
      ),
    ]),
  ) as Record<LoginRole, pulumi.Output<{ host: string; port: number; database: string; user: string; sslmode: string; secretArn: string; password: string }>>;

  return {
    target: 'prod' as const,
    database: cfg.database,
    setupKey: ctx.setupKey,
    maxConnections: budget.total,
    vpcId: network.vpc.id,
    privateSubnetIds: network.subnetIds,
    appSecurityGroupId: network.appSecurityGroup.id,
    databaseSecurityGroupId: network.databaseSecurityGroup.id,
    endpoint: server.address,
    port: server.port,
    replicaEndpoints: pulumi.all(server.replicas.map((r) => r.address)),
    masterUsername: cfg.masterUsername,
    masterSecretArn: server.masterSecretArn,
    roleSecretArns: pulumi.all(Object.fromEntries(LOGIN_ROLES.map((r) => [r, bootstrap.secrets[r].arn]))),
    connections,
    bootstrap: { function: bootstrap.function.name, result: bootstrap.result },
    bastionInstanceId: bastion?.instance.id,
  };
}
