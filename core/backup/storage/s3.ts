import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3StorageConfig } from '../../config/ops-config.ts';
import { UserError, errorLine } from '../../errors.ts';
import { pidAlive } from '../../processes.ts';
import { parseManifest, serializeManifest, type BackupManifest } from '../manifest.ts';
import { DUMP_EXTENSION, MANIFEST_EXTENSION, isBackupName, manifestNameFor } from '../file-names.ts';
import type { BackupStorage, Listing, OpenedDump, StoredBackup } from './types.ts';

const PARTIAL = /^\.(.+)\.(\d+)\.(partial|download)$/;

/** The SDK's own warning about Node 20 is noise on every command's stderr; the engine requirement is in package.json. */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The SDK loads on first use: commands that never touch S3 should not pay for it at start-up. */
let sdk: Promise<typeof import('@aws-sdk/client-s3')> | undefined;
const s3sdk = () => (sdk ??= import('@aws-sdk/client-s3'));

export async function s3Client(cfg: S3StorageConfig, env: NodeJS.ProcessEnv = process.env): Promise<S3Client> {
  const { S3Client } = await s3sdk();
  return new S3Client({
    region: cfg.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
    forcePathStyle: cfg.forcePathStyle,
    // S3-compatible servers rarely speak the SDK's newer streaming checksums; AWS itself gets them.
    ...(cfg.endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
  });
}

/** S3 errors as one line naming the object and the likely fix. */
export function s3Error(e: unknown, action: string, where: string): UserError {
  const err = e as { name?: string; message?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const name = err.name ?? err.Code ?? 'Error';
  const msg = errorLine(e);
  const fix =
    name === 'CredentialsProviderError' ? 'provide AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or an instance role)'
    : name === 'NoSuchBucket' ? 'create the bucket or fix backups.targets.<target>.storage.bucket in the config'
    : name === 'AccessDenied' || err.$metadata?.httpStatusCode === 403 ? 'grant s3:PutObject, s3:GetObject, s3:ListBucket and s3:DeleteObject on the bucket (and kms:GenerateDataKey/kms:Decrypt for its key)'
    : /region/i.test(msg) ? 'set backups.targets.<target>.storage.region or AWS_REGION'
    : 'check the bucket, the endpoint and the network path';
  return new UserError(`S3 ${action} ${where} failed: ${name}: ${msg}`, fix);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Backups in an S3 bucket under `<prefix>/<target>/<database>/`, each object encrypted at
 * rest (SSE-KMS or SSE-S3), the dump's SHA-256 kept as object metadata too. A dump is staged
 * in a local file first: its checksum must be known before the upload starts, and an upload
 * only becomes visible once complete, so a crash leaves nothing that looks finished.
 */
export class S3Storage implements BackupStorage {
  readonly kind = 's3' as const;
  readonly location: string;
  private clientPromise: Promise<S3Client> | undefined;

  constructor(
    readonly cfg: S3StorageConfig,
    /** `<prefix>/<target>/<database>/` */
    readonly keyPrefix: string,
    /** Local folder for staging uploads and downloads. */
    readonly workDir: string,
    client?: S3Client,
  ) {
    if (client) this.clientPromise = Promise.resolve(client);
    this.location = `s3://${cfg.bucket}/${keyPrefix}`;
  }

  private client(): Promise<S3Client> {
    return (this.clientPromise ??= s3Client(this.cfg));
  }

  /** Sends one command, built from the SDK once it is loaded. */
  private async send<T>(build: (s: typeof import('@aws-sdk/client-s3')) => unknown): Promise<T> {
    const [mod, client] = await Promise.all([s3sdk(), this.client()]);
    return (await client.send(build(mod) as never)) as T;
  }

  locationOf(name: string): string {
    return `s3://${this.cfg.bucket}/${this.keyPrefix}${name}`;
  }

  private key(name: string): string {
    return this.keyPrefix + name;
  }

  private encryption() {
    return { ServerSideEncryption: this.cfg.sse, ...(this.cfg.kmsKeyId ? { SSEKMSKeyId: this.cfg.kmsKeyId } : {}) } as const;
  }

  private async workFile(name: string, kind: 'partial' | 'download'): Promise<string> {
    if (!existsSync(this.workDir)) mkdirSync(this.workDir, { recursive: true, mode: 0o700 });
    for (const f of await readdir(this.workDir)) {
      const m = PARTIAL.exec(f);
      if (m && !pidAlive(Number(m[2]))) await rm(path.join(this.workDir, f), { force: true });
    }
    return path.join(this.workDir, `.${name}.${process.pid}.${kind}`);
  }

  async stage(name: string): Promise<string> {
    return this.workFile(name, 'partial');
  }

  async commit(staged: string, manifest: BackupManifest): Promise<string> {
    const where = this.locationOf(manifest.name);
    try {
      const { Upload } = await import('@aws-sdk/lib-storage');
      const upload = new Upload({
        client: await this.client(),
        params: {
          Bucket: this.cfg.bucket,
          Key: this.key(manifest.name),
          Body: createReadStream(staged),
          ContentType: 'application/octet-stream',
          Metadata: { sha256: manifest.sha256, 'pgsteward-database': manifest.database, 'pgsteward-target': manifest.target },
          ...this.encryption(),
        },
        partSize: 16 * 1024 * 1024,
        queueSize: 4,
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (e) {
      throw s3Error(e, 'upload to', where);
    }
    await this.writeManifest(manifest);
    await rm(staged, { force: true });
    return where;
  }

  async discard(staged: string): Promise<void> {
    await rm(staged, { force: true });
  }

  private async head(key: string): Promise<Record<string, string> | undefined> {
    try {
      const h = await this.send<{ Metadata?: Record<string, string> }>((m) => new m.HeadObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
      return h.Metadata ?? {};
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404) return undefined;
      throw s3Error(e, 'HEAD', `s3://${this.cfg.bucket}/${key}`);
    }
  }

  async exists(name: string): Promise<boolean> {
    return (await this.head(this.key(name))) !== undefined || (await this.head(this.key(manifestNameFor(name)))) !== undefined;
  }

  private async keys(): Promise<Map<string, Date | undefined>> {
    const out = new Map<string, Date | undefined>();
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.send<import('@aws-sdk/client-s3').ListObjectsV2CommandOutput>((m) => new m.ListObjectsV2Command({ Bucket: this.cfg.bucket, Prefix: this.keyPrefix, ContinuationToken: token }));
      } catch (e) {
        throw s3Error(e, 'list', this.location);
      }
      for (const o of page.Contents ?? []) if (o.Key) out.set(o.Key.slice(this.keyPrefix.length), o.LastModified);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  private async readManifest(name: string): Promise<BackupManifest> {
    const key = this.key(manifestNameFor(name));
    let text: string;
    try {
      const r = await this.send<import('@aws-sdk/client-s3').GetObjectCommandOutput>((m) => new m.GetObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
      text = await r.Body!.transformToString('utf8');
    } catch (e) {
      const err = e as { name?: string };
      if (err.name === 'NoSuchKey') throw new UserError(`backup ${name} has no manifest in ${this.location}`, 'it was interrupted before it was recorded; use another backup');
      throw s3Error(e, 'download of', `s3://${this.cfg.bucket}/${key}`);
    }
    const m = parseManifest(text, `s3://${this.cfg.bucket}/${key}`);
    if (m.name !== name) throw new UserError(`manifest ${key} describes ${m.name}`, 'restore the manifest from a copy');
    return m;
  }

  async list(): Promise<Listing> {
    const keys = await this.keys();
    const incomplete: Listing['incomplete'] = [];
    const dumps: string[] = [];
    for (const [k, modified] of keys) {
      if (k.includes('/')) continue;
      if (k.endsWith(DUMP_EXTENSION) && isBackupName(k)) {
        if (keys.has(manifestNameFor(k))) dumps.push(k);
        else incomplete.push({ name: k, kind: 'no-manifest', reason: 'dump without a manifest (interrupted before it was recorded)', modifiedAt: modified });
      } else if (k.endsWith(MANIFEST_EXTENSION)) {
        const d = k.slice(0, -MANIFEST_EXTENSION.length) + DUMP_EXTENSION;
        if (isBackupName(d) && !keys.has(d)) incomplete.push({ name: d, kind: 'no-dump', reason: 'manifest without a dump', modifiedAt: modified });
      }
    }
    const backups: StoredBackup[] = [];
    await mapLimit(dumps, 8, async (name) => {
      try {
        backups.push({ name, manifest: await this.readManifest(name), location: this.locationOf(name) });
      } catch (e) {
        incomplete.push({ name, kind: 'unreadable', reason: (e as Error).message, modifiedAt: keys.get(name) });
      }
    });
    backups.sort((a, b) => a.manifest.startedAt.localeCompare(b.manifest.startedAt) || a.name.localeCompare(b.name));
    return { backups, incomplete };
  }

  async get(name: string): Promise<StoredBackup> {
    if ((await this.head(this.key(name))) === undefined) {
      throw new UserError(`backup ${name} not found in ${this.location}`, 'list the backups with retention --dry-run, or check --target and --database');
    }
    return { name, manifest: await this.readManifest(name), location: this.locationOf(name) };
  }

  /** Downloads the dump to a private temporary file; its checksum is compared by the caller before any restore. */
  async open(name: string): Promise<OpenedDump> {
    const { manifest } = await this.get(name);
    const file = await this.workFile(name, 'download');
    const release = () => rm(file, { force: true });
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      const r = await this.send<import('@aws-sdk/client-s3').GetObjectCommandOutput>((m) => new m.GetObjectCommand({ Bucket: this.cfg.bucket, Key: this.key(name) }));
      const meta = r.Metadata?.sha256;
      if (meta && meta !== manifest.sha256) {
        throw new UserError(`backup ${name} failed its integrity check: the object's SHA-256 metadata does not match its manifest`, 'the object or its manifest was altered; nothing was restored; use another backup');
      }
      await pipeline(
        r.Body as Readable,
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            hash.update(chunk);
            bytes += chunk.length;
            cb(null, chunk);
          },
        }),
        createWriteStream(file, { mode: 0o600 }),
      );
    } catch (e) {
      await release();
      if (e instanceof UserError) throw e;
      throw s3Error(e, 'download of', this.locationOf(name));
    }
    return { file, release, sha256: hash.digest('hex'), bytes };
  }

  async writeManifest(manifest: BackupManifest): Promise<void> {
    const key = this.key(manifestNameFor(manifest.name));
    try {
      await this.send((m) =>
        new m.PutObjectCommand({ Bucket: this.cfg.bucket, Key: key, Body: serializeManifest(manifest), ContentType: 'application/json', ...this.encryption() }),
      );
    } catch (e) {
      throw s3Error(e, 'upload to', `s3://${this.cfg.bucket}/${key}`);
    }
  }

  async remove(name: string): Promise<void> {
    for (const key of [this.key(name), this.key(manifestNameFor(name))]) {
      try {
        await this.send((m) => new m.DeleteObjectCommand({ Bucket: this.cfg.bucket, Key: key }));
      } catch (e) {
        throw s3Error(e, 'delete of', `s3://${this.cfg.bucket}/${key}`);
      }
    }
  }
}
