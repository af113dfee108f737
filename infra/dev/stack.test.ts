import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../core/config/target-settings.ts';
import { MIGRATIONS_DIR } from '../../core/paths.ts';
import { parseOpsConfig } from '../../core/config/ops-config.ts';
import { captureUnhandled, isSecretValue, mockOpsConfig, runStack, resolveAll, type Recorded, type StackRun } from '../test/pulumi-mocks.ts';

const NETWORK = 'docker:index/network:Network';
const CONTAINER = 'docker:index/container:Container';
const VOLUME = 'docker:index/volume:Volume';
const IMAGE = 'docker:index/image:Image';

const dev = (config: Record<string, string> = {}, extra: Partial<Parameters<typeof runStack>[0]> = {}) =>
  runStack({ stack: 'dev', config: { 'pgsteward:target': 'dev', ...config }, ...extra });

const labelsOf = (r: Recorded) => Object.fromEntries((r.inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));
const byLabel = (run: StackRun, purpose: string) => run.ofType(CONTAINER).filter((c) => labelsOf(c)['io.pgsteward.purpose'] === purpose);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-dev-stack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('dev stack (Docker)', async () => {
  const run = await dev();
  const [server] = byLabel(run, 'database');
  const [bootstrap] = byLabel(run, 'bootstrap');
  const dbNetwork = run.ofType(NETWORK).find((n) => labelsOf(n)['io.pgsteward.purpose'] === 'database')!;

  it('declares every resource inside one of its components: network, server, bootstrap, cron', () => {
    const custom = run.urns.filter((u) => !/::pgsteward:dev:\w+::/.test(u));
    expect(custom).toHaveLength(run.resources.filter((r) => !r.type.startsWith('pgsteward:')).length);
    const parents = new Set(custom.map((u) => /::(pgsteward:dev:\w+)\$/.exec(u)?.[1]));
    expect(parents).toEqual(new Set(['pgsteward:dev:Network', 'pgsteward:dev:DatabaseServer', 'pgsteward:dev:DatabaseBootstrap', 'pgsteward:dev:Cron']));
  });

  it('puts the database on an internal network', () => {
    expect(run.ofType(NETWORK)).toHaveLength(1);
    expect(dbNetwork.inputs).toMatchObject({ name: 'pgsteward-dev-db-net', internal: true, driver: 'bridge' });
  });

  it('attaches the database container to that network only, with no published port', () => {
    expect(server).toBeDefined();
    expect(server!.inputs.networksAdvanced).toEqual([{ name: 'pgsteward-dev-db-net', aliases: ['postgres'] }]);
    expect(server!.inputs.networkMode).toBeUndefined();
    expect(server!.inputs.ports ?? []).toEqual([]);
    expect(server!.inputs.publishAllPorts).toBe(false);
    // No container in the stack publishes anything without the flag.
    expect(run.ofType(CONTAINER).flatMap((c) => c.inputs.ports ?? [])).toEqual([]);
  });

  it('runs PostgreSQL 17 with pg_uuidv7 from the repository Dockerfile', () => {
    const image = run.one(IMAGE, 'database-image');
    expect(image.inputs.build.dockerfile).toBe(path.join(MIGRATIONS_DIR, '..', 'infra/docker/postgres/Dockerfile'));
    expect(image.inputs.build.args).toEqual({ PG_IMAGE: 'postgres:17.6-bookworm' });
    expect(image.inputs.skipPush).toBe(true);
    expect(server!.inputs.image).toMatch(/^sha256:/);
  });

  it('keeps data in a named volume and checks health with pg_isready', () => {
    const volume = run.one(VOLUME, 'database-data');
    expect(volume.inputs.name).toBe('pgsteward-dev-pgdata');
    expect(server!.inputs.volumes).toEqual([{ volumeName: 'pgsteward-dev-pgdata', containerPath: '/var/lib/postgresql/data' }]);
    expect(server!.inputs.healthcheck.tests).toEqual(['CMD', 'pg_isready', '-h', '127.0.0.1', '-p', '5432', '-U', 'postgres', '-d', 'postgres']);
    // startInterval needs Docker Engine 25+; the stack asks for nothing newer than BuildKit's Engine 23.
    expect(server!.inputs.healthcheck.startInterval).toBeUndefined();
    expect(server!.inputs.wait).toBe(true);
  });

  it('limits memory, sizes /dev/shm, restarts unless stopped, and sizes max_connections from the pool', () => {
    expect(server!.inputs).toMatchObject({ memory: 1024, memorySwap: 1024, shmSize: 256, restart: 'unless-stopped' });
    expect(server!.inputs.command).toEqual(expect.arrayContaining(['-c', 'max_connections=23', '-c', 'log_min_duration_statement=500']));
  });

  it('never puts the superuser password in the container environment', async () => {
    const outputs = (await resolveAll(run.outputs)) as { adminPassword: string };
    expect(server!.inputs.envs).toContain('POSTGRES_PASSWORD_FILE=/run/pgsteward/postgres-password');
    expect(JSON.stringify(server!.inputs.envs)).not.toContain(outputs.adminPassword);
    expect(server!.inputs.uploads).toEqual([{ file: '/run/pgsteward/postgres-password', content: outputs.adminPassword, owner: '999', group: '999', permissions: '0400' }]);
    // Sent to the engine as a secret, so it is encrypted in the state.
    expect(isSecretValue(server!.raw.uploads)).toBe(true);
  });

  it('runs setup-db once, attached, not must-run, on the internal network only', () => {
    expect(bootstrap).toBeDefined();
    expect(bootstrap!.inputs).toMatchObject({ attach: true, mustRun: false, logs: true, restart: 'no', rm: false });
    expect(bootstrap!.inputs.networksAdvanced).toEqual([{ name: 'pgsteward-dev-db-net' }]);
    expect(bootstrap!.inputs.ports ?? []).toEqual([]);
    expect(run.one(IMAGE, 'bootstrap-image').inputs.build.dockerfile).toMatch(/infra\/docker\/bootstrap\/Dockerfile$/);
  });

  it('hands setup-db exactly the environment core resolves: dev target, the server, every role password', async () => {
    const upload = (bootstrap!.inputs.uploads as { file: string; content: string; owner: string; permissions: string }[])[0]!;
    expect(upload).toMatchObject({ file: '/run/pgsteward/setup.env', owner: '1000', permissions: '0400' });
    expect(isSecretValue(bootstrap!.raw.uploads)).toBe(true);
    const env = parseEnv(upload.content);
    const target = resolveTarget({}, env as NodeJS.ProcessEnv, '/app');
    const outputs = (await resolveAll(run.outputs)) as { adminPassword: string; connections: Record<string, { password: string }> };
    expect(target.kind).toBe('dev');
    expect(target.database).toBe('app');
    expect(target.pool).toEqual({ max: 10, min: 2, instances: 1 });
    expect(target.admin).toEqual({ host: 'pgsteward-dev-postgres', port: 5432, database: 'postgres', user: 'postgres', password: outputs.adminPassword, ssl: 'disable' });
    expect(target.rolePasswords).toEqual(Object.fromEntries(Object.entries(outputs.connections).map(([r, c]) => [r, c.password])));
    expect(bootstrap!.inputs.envs ?? []).toEqual([]);
  });

  it('keys the bootstrap run by the migrations + role definitions hash', async () => {
    const key = (await resolveAll(run.outputs.setupKey)) as string;
    expect(key).toMatch(/^[a-f0-9]{64}$/);
    expect(labelsOf(bootstrap!)['io.pgsteward.setup-key']).toBe(key);
    expect(bootstrap!.inputs.name).toBe(`pgsteward-dev-setup-${key.slice(0, 12)}`);
  });

  it('re-keys the bootstrap when a migration file changes', async () => {
    const dir = path.join(tmp, 'migrations');
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const same = await dev({}, { migrationsDir: dir });
    appendFileSync(path.join(dir, '0002_auth_users.sql'), '\n-- a change\n');
    const changed = await dev({}, { migrationsDir: dir });
    const keyOf = (r: StackRun) => labelsOf(byLabel(r, 'bootstrap')[0]!)['io.pgsteward.setup-key'];
    expect(keyOf(same)).toBe(labelsOf(bootstrap!)['io.pgsteward.setup-key']);
    expect(keyOf(changed)).not.toBe(keyOf(same));
  });

  it('outputs the network, the container, and per-role connections with secret passwords', async () => {
    expect(await resolveAll(run.outputs.network)).toBe('pgsteward-dev-db-net');
    expect(await resolveAll(run.outputs.container)).toBe('pgsteward-dev-postgres');
    expect(run.outputs.forwardPort).toBeUndefined();
    const connections = run.outputs.connections as Record<string, pulumi.Output<unknown>>;
    expect(Object.keys(connections).sort()).toEqual(['app', 'backup', 'migrator', 'readonly']);
    for (const c of Object.values(connections)) expect(await pulumi.isSecret(c)).toBe(true);
    expect(await pulumi.isSecret(run.outputs.adminPassword as pulumi.Output<string>)).toBe(true);
    const app = (await resolveAll(connections.app)) as Record<string, unknown>;
    expect(app).toMatchObject({ host: 'pgsteward-dev-postgres', port: 5432, database: 'app', user: 'app_app' });
    expect(app.url).toBe(`postgres://app_app:${app.password}@pgsteward-dev-postgres:5432/app?sslmode=disable`);
    expect(await resolveAll((run.outputs.bootstrap as { exitCode: unknown }).exitCode)).toBe(0);
  });
});

describe('dev stack cron container', async () => {
  const ops = mockOpsConfig();
  const run = await dev({}, { ops });
  const [cron] = byLabel(run, 'cron');
  const outputs = (await resolveAll(run.outputs)) as { adminPassword: string; connections: Record<string, { password: string }>; cron: Record<string, string> };
  const uploads = () => Object.fromEntries((cron!.inputs.uploads as { file: string; content: string; owner: string; permissions: string }[]).map((u) => [u.file, u]));

  it('runs cron from the runner image, built locally from the same Dockerfile prod pushes', () => {
    expect(cron).toBeDefined();
    const image = run.one(IMAGE, 'cron-image');
    expect(image.inputs.build.dockerfile).toMatch(/infra\/docker\/runner\/Dockerfile$/);
    expect(image.inputs.build.platform).toBeUndefined();
    expect(image.inputs.skipPush).toBe(true);
    expect(cron!.inputs.image).toMatch(/^sha256:/);
    expect(cron!.opts.propertyDependencies.image).toEqual([image.urn]);
    expect(cron!.inputs.command).toEqual(['cron', '--target', 'dev']);
    expect(cron!.inputs.restart).toBe('unless-stopped');
  });

  it('sits on the internal network only, publishes nothing, and reaches the server by its container name', () => {
    expect(cron!.inputs.networksAdvanced).toEqual([{ name: 'pgsteward-dev-db-net' }]);
    expect(cron!.inputs.ports ?? []).toEqual([]);
    const env = parseEnv(uploads()['/run/pgsteward/runner.env']!.content);
    const target = resolveTarget({}, env as NodeJS.ProcessEnv, '/app');
    expect(target.kind).toBe('dev');
    expect(target.admin).toMatchObject({ host: 'pgsteward-dev-postgres', port: 5432, user: 'postgres', password: outputs.adminPassword, ssl: 'disable' });
    expect(target.rolePasswords.backup).toBe(outputs.connections.backup!.password);
    expect(cron!.inputs.envs ?? []).toEqual([]);
    expect(isSecretValue(cron!.raw.uploads)).toBe(true);
    // It starts after the bootstrap has created the roles.
    expect(cron!.opts.dependencies).toContain(byLabel(run, 'bootstrap')[0]!.urn);
  });

  it('backs up to a named volume kept on destroy and writes the history where the host reads it', () => {
    const files = uploads();
    const config = parseOpsConfig(JSON.parse(files['/run/pgsteward/pgsteward.config.json']!.content), { file: 'x.json', baseDir: '/', stateDir: '/var/lib/pgsteward' });
    expect(config.targets.dev.storage).toEqual({ type: 'local', dir: '/var/lib/pgsteward/backups' });
    expect(config.targets.dev.docker).toBeUndefined();
    expect(config.cron.historyFile).toBe('/var/lib/pgsteward/cron/history.jsonl');
    expect(parseEnv(files['/run/pgsteward/runner.env']!.content)).toMatchObject({ PGSTEWARD_CONFIG: '/run/pgsteward/pgsteward.config.json', PGSTEWARD_HOME: '/var/lib/pgsteward' });
    const backups = run.one(VOLUME, 'cron-backups');
    expect(backups.inputs.name).toBe('pgsteward-dev-backups');
    expect(backups.opts.retainOnDelete).toBe(true);
    const history = run.one(VOLUME, 'cron-history');
    // The host's `npm run cron -- status --target dev` reads ops.cron.historyFile; the container writes the same file.
    expect(history.inputs.driverOpts).toEqual({ type: 'none', o: 'bind', device: path.dirname(ops.cron.historyFile) });
    expect(path.basename(ops.cron.historyFile)).toBe('history.jsonl');
    expect(cron!.inputs.volumes).toEqual([
      { volumeName: 'pgsteward-dev-backups', containerPath: '/var/lib/pgsteward/backups' },
      { volumeName: 'pgsteward-dev-cron-history', containerPath: '/var/lib/pgsteward/cron' },
    ]);
    // As the host user, so the history files it writes are that user's.
    expect(cron!.inputs.user).toBe(`${process.getuid!()}:${process.getgid!()}`);
    expect(files['/run/pgsteward/runner.env']).toMatchObject({ owner: String(process.getuid!()), permissions: '0400' });
    expect(outputs.cron).toEqual({ container: 'pgsteward-dev-cron', backupsVolume: 'pgsteward-dev-backups', historyVolume: 'pgsteward-dev-cron-history' });
  });

  it('drops the backups with the stack only when keepDataOnDestroy is off, and leaves cron out when switched off', async () => {
    expect((await dev({ 'pgsteward:keepDataOnDestroy': 'false' })).one(VOLUME, 'cron-backups').opts.retainOnDelete).toBe(false);
    const none = await dev({ 'pgsteward:cron': 'false' });
    expect(byLabel(none, 'cron')).toEqual([]);
    expect(none.outputs.cron).toBeUndefined();
  });
});

describe('dev stack with the loopback forward', async () => {
  const run = await dev({ 'pgsteward:forward': 'true', 'pgsteward:forwardPort': '6543' });

  it('publishes one port, on 127.0.0.1 only, from a relay, never from the database container', () => {
    const published = run.ofType(CONTAINER).filter((c) => (c.inputs.ports ?? []).length > 0);
    expect(published).toHaveLength(1);
    const relay = published[0]!;
    expect(labelsOf(relay)['io.pgsteward.purpose']).toBe('loopback-forward');
    expect(relay.inputs.ports).toEqual([{ internal: 5432, external: 6543, ip: '127.0.0.1', protocol: 'tcp' }]);
    expect(relay.inputs.command).toEqual(['TCP:pgsteward-dev-postgres:5432']);
    const server = byLabel(run, 'database')[0]!;
    expect(server.inputs.networksAdvanced).toEqual([{ name: 'pgsteward-dev-db-net', aliases: ['postgres'] }]);
  });

  it('gives the relay a forward-only bridge that binds to loopback, and keeps the database network internal', () => {
    const nets = Object.fromEntries(run.ofType(NETWORK).map((n) => [labelsOf(n)['io.pgsteward.purpose'], n.inputs]));
    expect(nets.database).toMatchObject({ internal: true });
    expect(nets['loopback-forward']).toMatchObject({ internal: false, options: { 'com.docker.network.bridge.host_binding_ipv4': '127.0.0.1' } });
  });

  it('outputs the forward port and a loopback admin URL as a secret', async () => {
    expect(run.outputs.forwardPort).toBe(6543);
    const url = run.outputs.hostAdminUrl as pulumi.Output<string>;
    expect(await pulumi.isSecret(url)).toBe(true);
    expect(await resolveAll(url)).toMatch(/^postgres:\/\/postgres:[A-Za-z0-9]+@127\.0\.0\.1:6543\/postgres\?sslmode=disable$/);
  });
});

describe('dev stack failures', () => {
  it('fails the deployment when setup-db exits non-zero, with its error line', async () => {
    let exported: unknown;
    const unhandled = await captureUnhandled(async () => {
      const run = await dev({}, { behaviour: { containerExitCode: 2, containerLogs: '{"ok":false}\nerror: migration 3 (0003_rbac.sql) failed: syntax error; fix the SQL in that file\n' } });
      // The stack exports the checked exit code; resolving it is what registering stack outputs does.
      exported = await resolveAll((run.outputs.bootstrap as { exitCode: pulumi.Output<number> }).exitCode).catch((e: unknown) => e);
    });
    const expected = /^database bootstrap \(setup-db\) exited with code 2: \{"ok":false\} \/ error: migration 3 \(0003_rbac.sql\) failed: syntax error; fix the SQL in that file; fix the cause and run pulumi up again/;
    expect(pulumi.ResourceError.isInstance(exported)).toBe(true);
    expect((exported as Error).message).toMatch(expected);
    // Pulumi's runner fails the deployment on the same error, raised without a stack trace.
    expect(unhandled.length).toBeGreaterThan(0);
    for (const e of unhandled) {
      expect(pulumi.ResourceError.isInstance(e) && (e as pulumi.ResourceError).hideStack).toBe(true);
      expect((e as Error).message).toMatch(expected);
    }
  });

  it('fails the preview on bad config, with one line naming the key', async () => {
    await expect(dev({ 'pgsteward:memoryMb': 'lots' })).rejects.toThrow(/pgsteward:memoryMb must be a whole number from 256 to 65536, got "lots"/);
  });
});
