import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOpsConfig } from '../../core/config/ops-config.ts';
import { readHistory } from '../../core/cron/history.ts';
import { EXTENSIONS_DIR } from '../../core/extensions/bundled.ts';
import { embeddedBinDir } from '../../core/local/binaries.ts';
import { readMigrations } from '../../core/migrations/files.ts';
import { MIGRATIONS_DIR, REPO_ROOT } from '../../core/paths.ts';
import { setupDatabase } from '../../core/setup.ts';
import { LOGIN_ROLES, type LoginRole } from '../../core/config/role-names.ts';
import { generatePassword } from '../../core/secrets.ts';
import { uniqueName } from '../../test/db.ts';
import { LOOPBACK_AWS_ENV, startLoopbackAws, TARGET, type LoopbackAws } from '../../test/loopback-aws.ts';
import { installedToolsBin } from '../../test/pg-tools.ts';
import { startTlsCluster, type TlsCluster } from '../../test/tls-cluster.ts';
import { writeRunnerBundles } from '../build/bundle.ts';
import { jobEnvironment } from '../prod/jobs.ts';
import { jobOpsConfig } from '../prod/stack.ts';
import { JOB_COMMANDS, RUNNER_DOCKERFILE, type ScheduledJob } from './image.ts';

/**
 * The prod job containers, run for real without Docker: the runner bundles laid out as the
 * image has them (/app/runner/entrypoint.mjs, /app/ops/*.mjs, /app/migrations, /app/extensions,
 * squawk), started
 * with the Dockerfile's ENTRYPOINT and the task definition's command and environment
 * (jobEnvironment, jobOpsConfig). "AWS" is loopback: Secrets Manager and CloudWatch answered
 * by a recording server (the real SDK requests), S3 by s3rver. The database is a PostgreSQL 17
 * with TLS, since the runner refuses plaintext for prod; the client tools are the 17 ones.
 */

const STACK = 'acme-prod';
const BACKUP_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme-prod/app_backup-AbCdEf';
const ADMIN_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme-prod/master-GhIjKl';
const BUCKET = 'acme-prod-backups';
const serverBin = await embeddedBinDir();
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/00000000-1111-2222-3333-444444444444';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-job-run-'));
const appDir = path.join(tmp, 'app');
let pg: TlsCluster;
let aws: LoopbackAws;
let s3: S3rver;
let s3Url: string;
let database: string;
let passwords: Record<LoginRole, string>;
/** What the fake Secrets Manager answers, by ARN. */
const secrets = new Map<string, { username: string; password: string }>();

beforeAll(async () => {
  pg = await startTlsCluster();
  database = uniqueName('jobs');
  passwords = Object.fromEntries(LOGIN_ROLES.map((r) => [r, generatePassword()])) as Record<LoginRole, string>;
  await setupDatabase({ admin: pg.admin(), database, pool: { max: 10, min: 2, instances: 1 }, passwords, migrations: readMigrations(MIGRATIONS_DIR) });

  aws = await startLoopbackAws({
    [TARGET.getSecretValue]: (req) => {
      const id = (req.body as { SecretId: string }).SecretId;
      const s = secrets.get(id);
      if (!s) return { status: 400, body: { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." } };
      return { body: { ARN: id, Name: id.split(':').pop(), SecretString: JSON.stringify({ engine: 'postgres', ...s }), VersionId: 'v1', CreatedDate: 1_700_000_000 } };
    },
    [TARGET.putMetricData]: () => ({ body: {} }),
  });

  mkdirSync(path.join(tmp, 's3'));
  s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(tmp, 's3'), configureBuckets: [{ name: BUCKET }] });
  const { port } = await s3.run();
  s3Url = `http://127.0.0.1:${port}`;

  // The image's /app, as its Dockerfile assembles it.
  await writeRunnerBundles(appDir);
  cpSync(MIGRATIONS_DIR, path.join(appDir, 'migrations'), { recursive: true });
  cpSync(EXTENSIONS_DIR, path.join(appDir, 'extensions'), { recursive: true });
  mkdirSync(path.join(appDir, 'node_modules', '@squawk-cli'), { recursive: true });
  symlinkSync(path.join(REPO_ROOT, 'node_modules', 'squawk-cli'), path.join(appDir, 'node_modules', 'squawk-cli'));
  for (const p of readdirSync(path.join(REPO_ROOT, 'node_modules', '@squawk-cli')).filter((d) => d.startsWith('linux-'))) {
    symlinkSync(path.join(REPO_ROOT, 'node_modules', '@squawk-cli', p), path.join(appDir, 'node_modules', '@squawk-cli', p));
  }
}, 180_000);

afterAll(async () => {
  await aws?.close();
  await s3?.close();
  await pg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** The Dockerfile's ENTRYPOINT, with `node` this Node and /app the folder above. */
function entrypoint(): string[] {
  const line = readFileSync(path.join(REPO_ROOT, RUNNER_DOCKERFILE), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ENTRYPOINT '))!;
  const argv = JSON.parse(line.slice('ENTRYPOINT '.length)) as string[];
  expect(argv[0]).toBe('node');
  return [process.execPath, ...argv.slice(1).map((a) => (a.startsWith('/app/') ? path.join(appDir, a.slice('/app/'.length)) : a))];
}

const home = (job: ScheduledJob) => path.join(tmp, `home-${job}`);

/** The task definition's environment for `job`, plus what ECS and the image add, pointed at loopback. */
function taskEnv(job: ScheduledJob, over: { port?: number } = {}): NodeJS.ProcessEnv {
  const ops = parseOpsConfig(undefined, { file: undefined, baseDir: REPO_ROOT, stateDir: path.join(tmp, 'unused') });
  const opsConfig = jobOpsConfig(ops, { bucket: BUCKET, prefix: 'pgsteward', region: 'eu-west-1', kmsKeyId: KEY_ARN });
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '' };
  for (const { name, value } of jobEnvironment(job, { stack: STACK, database, host: '127.0.0.1', port: over.port ?? pg.port, secretArn: job === 'backup' ? BACKUP_SECRET : ADMIN_SECRET, opsConfig })) env[name] = value;
  return {
    ...env,
    // The image (infra/docker/runner/Dockerfile): its CA bundle for Node and libpq, the 17 tools, its state folder.
    NODE_ENV: 'production',
    NODE_EXTRA_CA_CERTS: pg.caFile,
    PGSSLROOTCERT: pg.caFile,
    PG_BIN: installedToolsBin(17),
    // The image's LOCAL_PG_BIN: PostgreSQL 17 server binaries for schema-drift's ephemeral reference (here the embedded ones).
    LOCAL_PG_BIN: serverBin,
    PGSTEWARD_HOME: home(job),
    // ECS gives the task its region and role credentials; here they reach loopback only.
    ...LOOPBACK_AWS_ENV,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    AWS_ENDPOINT_URL_CLOUDWATCH: aws.url,
    AWS_ENDPOINT_URL_S3: s3Url,
    // s3rver speaks neither the SDK's streaming checksums nor virtual-hosted buckets on an IP.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    PGSTEWARD_LOG_LEVEL: 'info',
  };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  metrics: Array<{ Namespace: string; MetricData: Array<{ MetricName: string; Dimensions: unknown; Value: number; Unit: string }> }>;
  secretReads: string[];
}

/** Runs the task's container command: ENTRYPOINT + JOB_COMMANDS[job], nothing else. */
async function runTask(job: ScheduledJob, env: NodeJS.ProcessEnv): Promise<Run> {
  const before = aws.requests.length;
  const [file, ...args] = [...entrypoint(), ...JOB_COMMANDS[job]];
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file!, args, { env, cwd: tmp, timeout: 150_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
  const sent = aws.requests.slice(before);
  return {
    ...r,
    metrics: sent.filter((q) => q.target === TARGET.putMetricData).map((q) => q.body as Run['metrics'][number]),
    secretReads: sent.filter((q) => q.target === TARGET.getSecretValue).map((q) => (q.body as { SecretId: string }).SecretId),
  };
}

const dims = () => [
  { Name: 'Stack', Value: STACK },
  { Name: 'Database', Value: database },
];

describe('the prod job containers, run for real (entrypoint + job command, no Docker)', () => {
  it('backup: reads the backup role secret, dumps over verified TLS to the bucket, exits 0 and publishes BackupSucceeded', async () => {
    secrets.set(BACKUP_SECRET, { username: `${database}_backup`, password: passwords.backup });
    const r = await runTask('backup', taskEnv('backup'));
    expect(r.stderr.split('\n').filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^cron --once backup: ok /);
    expect(r.secretReads).toEqual([BACKUP_SECRET]);
    expect(r.metrics).toEqual([{ Namespace: 'pgsteward', MetricData: [{ MetricName: 'BackupSucceeded', Dimensions: dims(), Value: 1, Unit: 'Count', Timestamp: expect.any(Number) }] }]);
    const objects = await new S3Client({ endpoint: s3Url, region: 'eu-west-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }).send(new ListObjectsV2Command({ Bucket: BUCKET }));
    const keys = (objects.Contents ?? []).map((o) => o.Key!);
    expect(keys.filter((k) => k.endsWith('.dump'))).toEqual([expect.stringMatching(new RegExp(`^pgsteward/prod/${database}/`))]);
    expect(readHistory(path.join(home('backup'), 'cron', 'history.jsonl')).map((h) => [h.job, h.target, h.database, h.outcome])).toEqual([['backup', 'prod', database, 'ok']]);
  }, 160_000);

  it('backup with a wrong password, a server certificate the image does not trust, or a database that cannot be reached: exits non-zero and publishes no metric', async () => {
    const wrong = `wrong-${generatePassword()}`;
    secrets.set(BACKUP_SECRET, { username: `${database}_backup`, password: wrong });
    const denied = await runTask('backup', taskEnv('backup'));
    expect(denied.code).toBe(2);
    expect(denied.stdout).toMatch(/^cron --once backup: failed backup preflight failed/);
    expect(denied.secretReads).toEqual([BACKUP_SECRET]);
    expect(denied.metrics).toEqual([]);
    expect(denied.stdout + denied.stderr).not.toContain(wrong);

    secrets.set(BACKUP_SECRET, { username: `${database}_backup`, password: passwords.backup });
    const closed = await startLoopbackAws({});
    await closed.close();
    // Only the image's own RDS roots: our test server's certificate is refused (verify-full).
    const untrusted = await runTask('backup', { ...taskEnv('backup'), NODE_EXTRA_CA_CERTS: path.join(appDir, 'rds-ca.pem'), PGSSLROOTCERT: path.join(appDir, 'rds-ca.pem') });
    expect(untrusted.code).toBe(2);
    expect(untrusted.stdout).toMatch(/certificate/i);
    expect(untrusted.metrics).toEqual([]);

    const unreachable = await runTask('backup', taskEnv('backup', { port: Number(new URL(closed.url).port) }));
    expect(unreachable.code).toBe(2);
    expect(unreachable.metrics).toEqual([]);
    expect(readHistory(path.join(home('backup'), 'cron', 'history.jsonl')).map((h) => h.outcome)).toEqual(['ok', 'failed', 'failed', 'failed']);
  }, 160_000);

  it('verify: restores the newest backup into a scratch database as the master user, exits 0 and publishes VerifySucceeded', async () => {
    secrets.set(ADMIN_SECRET, { username: 'postgres', password: pg.superuserPassword });
    const r = await runTask('verify', taskEnv('verify'));
    expect(r.code, r.stdout + r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toMatch(/^cron --once verify: ok .* verified: checks \d+ passed, 0 failed; 0 row-count mismatch\(es\)/);
    expect(r.secretReads).toEqual([ADMIN_SECRET]);
    expect(r.metrics).toEqual([{ Namespace: 'pgsteward', MetricData: [{ MetricName: 'VerifySucceeded', Dimensions: dims(), Value: 1, Unit: 'Count', Timestamp: expect.any(Number) }] }]);
  }, 160_000);

  it('verify of a damaged backup: exits non-zero and publishes VerifyFailed', async () => {
    const client = new S3Client({ endpoint: s3Url, region: 'eu-west-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    const dump = (listed.Contents ?? []).map((o) => o.Key!).find((k) => k.endsWith('.dump'))!;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: dump, Body: 'not a dump any more' }));
    const r = await runTask('verify', taskEnv('verify'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^cron --once verify: findings .* FAILED verification/);
    expect(r.metrics).toEqual([{ Namespace: 'pgsteward', MetricData: [{ MetricName: 'VerifyFailed', Dimensions: dims(), Value: 1, Unit: 'Count', Timestamp: expect.any(Number) }] }]);
  }, 160_000);
});
