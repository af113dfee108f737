import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks } from '../../../checks/suite.ts';
import type { S3StorageConfig } from '../../config/ops-config.ts';
import { UserError } from '../../errors.ts';
import { backupDatabase } from '../backup.ts';
import { parseManifest } from '../manifest.ts';
import { pruneBackups } from '../prune.ts';
import { restoreBackup } from '../restore/index.ts';
import { clusterAdmin, expectMadeBy17, openBackupTarget, provisionBackupDatabase, seed, tableChecksums, testOpsConfig } from '../../../test/backups.ts';
import { verifyBackup } from '../verify.ts';
import { S3Storage, s3Client } from './s3.ts';

let server: S3rver;
let dir: string;
let cfg: S3StorageConfig;
const sent: Array<Record<string, string>> = [];

/** A client for the loopback server that also records the headers of every request it sends. */
async function client(): Promise<S3Client> {
  const c = await s3Client(cfg);
  c.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { headers?: Record<string, string> };
      if (req.headers) sent.push({ ...req.headers });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordHeaders' },
  );
  return c;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-s3rver-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: 'backups' }] });
  const { port } = await server.run();
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  cfg = { type: 's3', bucket: 'backups', prefix: 'pgsteward', region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, sse: 'AES256', kmsKeyId: undefined };
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('S3 storage against a loopback S3 server (PostgreSQL 17, pg_dump/pg_restore 17)', () => {
  it('round trip: backup to S3 with SSE and checksum metadata, list, restore, verify, prune', async () => {
    const db = await provisionBackupDatabase('s3');
    await seed(db.admin, 7);
    const ops = testOpsConfig();
    const target = await openBackupTarget(db);
    const storage = new S3Storage(cfg, `pgsteward/local/${db.database}/`, path.join(ops.stateDir, 'tmp'), await client());

    const { location, manifest } = await backupDatabase(target, { ops, storage });
    expect(location).toBe(`s3://backups/pgsteward/local/${db.database}/${manifest.name}`);
    expectMadeBy17(manifest);
    const puts = sent.filter((h) => h['x-amz-server-side-encryption']);
    expect(puts.length).toBeGreaterThanOrEqual(2); // the dump and its manifest
    expect(new Set(puts.map((h) => h['x-amz-server-side-encryption']))).toEqual(new Set(['AES256']));
    const raw = await client();
    const head = await raw.send(new HeadObjectCommand({ Bucket: 'backups', Key: `pgsteward/local/${db.database}/${manifest.name}` }));
    expect(head.Metadata?.sha256).toBe(manifest.sha256);
    expect(head.ContentLength).toBe(manifest.bytes);
    const mfObject = await raw.send(new GetObjectCommand({ Bucket: 'backups', Key: `pgsteward/local/${db.database}/${manifest.name.replace(/\.dump$/, '.json')}` }));
    expect(parseManifest(await mfObject.Body!.transformToString(), 's3')).toEqual(manifest);

    const listing = await storage.list();
    expect(listing.backups.map((b) => b.name)).toEqual([manifest.name]);
    expect(listing.incomplete).toEqual([]);

    const report = await restoreBackup(target, { source: { storage }, into: { kind: 'new' }, checks: runChecks, ops });
    expect(report.ok).toBe(true);
    expect(await tableChecksums(clusterAdmin(report.destination.database))).toEqual(await tableChecksums(db.admin));

    const v = await verifyBackup(target, { storage, checks: runChecks, ops });
    expect(v.verification.ok).toBe(true);
    expect((await storage.get(manifest.name)).manifest.verified).toBe(true);

    // a second, newer backup; retention keeping one must still keep the verified one
    const second = await backupDatabase(target, { ops, storage, label: 'second' });
    const dry = await pruneBackups(storage, { keepLast: 1, daily: 0, weekly: 0, monthly: 0, minAgeHours: 0 }, { dryRun: true });
    expect(dry.remove).toEqual([]);
    expect(dry.keep.map((k) => [k.name, k.reasons])).toEqual([[second.manifest.name, ['last 1']], [manifest.name, ['newest verified']]]);
    // no staging or download files are left behind
    expect(readdirSync(path.join(ops.stateDir, 'tmp'))).toEqual([]);
  });

  it('refuses an object whose bytes no longer match its manifest, before any restore', async () => {
    const db = await provisionBackupDatabase('s3bad');
    const ops = testOpsConfig();
    const target = await openBackupTarget(db);
    const storage = new S3Storage(cfg, `pgsteward/local/${db.database}/`, path.join(ops.stateDir, 'tmp'), await client());
    const { manifest } = await backupDatabase(target, { ops, storage });
    const key = `pgsteward/local/${db.database}/${manifest.name}`;
    const raw = await client();
    const body = Buffer.from(await (await raw.send(new GetObjectCommand({ Bucket: 'backups', Key: key }))).Body!.transformToByteArray());
    body[body.length - 10]! ^= 0xff;
    await raw.send(new PutObjectCommand({ Bucket: 'backups', Key: key, Body: body, Metadata: { sha256: manifest.sha256 } }));
    const err = await restoreBackup(target, { source: { storage }, into: { kind: 'new', database: `${db.database}_x` }, checks: runChecks, ops }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/failed its integrity check/);
  });
});
