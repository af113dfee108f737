import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../core/paths.ts';
import { DEFAULT_POSTGRES_BASE_IMAGE } from '../config.ts';
import { SETUP_ENV_FILE } from '../dev/bootstrap.ts';
import { RUNNER_ENV_FILE } from '../dev/cron.ts';
import { RUNNER_CONTEXT } from '../runner/image.ts';

/**
 * No Docker engine runs here, so the Dockerfiles are checked as text against what the stack
 * assumes of them: pinned bases, a verified extension commit, only runtime files in the
 * final bootstrap image, and the paths the stack uploads secrets to.
 */

interface Stage {
  from: string;
  lines: string[];
}

function stages(file: string): { args: Record<string, string>; stages: Stage[] } {
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8').replace(/\\\n/g, ' ');
  const args: Record<string, string> = {};
  const out: Stage[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)/i.exec(line);
    if (from) out.push({ from: from[1]!, lines: [] });
    else if (out.length === 0) {
      const arg = /^ARG\s+(\w+)=(\S+)/.exec(line);
      if (arg) args[arg[1]!] = arg[2]!;
    } else out[out.length - 1]!.lines.push(line);
  }
  return { args, stages: out };
}

const dockerignore = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('postgres Dockerfile', () => {
  const { args, stages: s } = stages('infra/docker/postgres/Dockerfile');

  it('defaults to the same pinned PostgreSQL 17 tag as the stack config', () => {
    expect(args.PG_IMAGE).toBe(DEFAULT_POSTGRES_BASE_IMAGE);
    expect(s.map((x) => x.from)).toEqual(['${PG_IMAGE}', '${PG_IMAGE}']);
  });

  it('builds pg_uuidv7 at a pinned commit and checks it, with no build tools in the final image', () => {
    const build = s[0]!.lines.join('\n');
    expect(build).toMatch(/ARG PG_UUIDV7_COMMIT=[0-9a-f]{40}\b/);
    expect(build).toContain('test "$(git rev-parse HEAD)" = "${PG_UUIDV7_COMMIT}"');
    const final = s[1]!.lines.join('\n');
    expect(final).not.toMatch(/apt-get|git |build-essential/);
    expect(final).toContain('COPY --from=build /out/usr/ /usr/');
    expect(final).toContain('[ "${PG_MAJOR}" = "17" ]');
  });

  it('starts through the entrypoint that re-applies the superuser password to a kept volume', () => {
    const final = s[1]!.lines;
    expect(final).toContain('COPY --chmod=0755 pgsteward-entrypoint.sh /usr/local/bin/pgsteward-entrypoint.sh');
    expect(final).toContain('ENTRYPOINT ["pgsteward-entrypoint.sh"]');
    expect(readFileSync(path.join(REPO_ROOT, 'infra/docker/postgres/pgsteward-entrypoint.sh'), 'utf8')).toMatch(/exec docker-entrypoint\.sh "\$@"\n$/);
  });
});

describe('bootstrap Dockerfile', () => {
  const { args, stages: s } = stages('infra/docker/bootstrap/Dockerfile');
  const [build, final] = s;

  it('pins a Node 22 base new enough for --env-file-if-exists (22.9+)', () => {
    const m = /^node:22\.(\d+)\.(\d+)-bookworm-slim$/.exec(args.NODE_IMAGE ?? '');
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(9);
  });

  it('bundles setup-db with the same script the tests run, natively on any host', () => {
    expect(build!.lines).toContain('RUN node_modules/.bin/tsx infra/build/bundle.ts setup-db /out');
    // --force: npm refuses the x64-only embedded PostgreSQL package on arm64 otherwise (EBADPLATFORM).
    expect(build!.lines).toContain('RUN npm ci --ignore-scripts --no-audit --no-fund --force');
    // No fixed --platform: an arm64 machine builds without emulation.
    expect(readFileSync(path.join(REPO_ROOT, 'infra/docker/bootstrap/Dockerfile'), 'utf8')).not.toMatch(/^FROM\s+--platform/m);
  });

  it('puts only the bundle and the migrations in the final image, run as an unprivileged user', () => {
    const copies = final!.lines.filter((l) => l.startsWith('COPY'));
    expect(copies).toEqual(['COPY --from=build /out/setup-db.mjs ./setup-db.mjs', 'COPY migrations ./migrations']);
    expect(final!.lines).toContain('USER node');
    expect(final!.lines.some((l) => /^RUN /.test(l))).toBe(false);
  });

  it('reads the env file the stack uploads and the migrations it ships', () => {
    const entry = final!.lines.find((l) => l.startsWith('ENTRYPOINT'))!;
    expect(JSON.parse(entry.replace(/^ENTRYPOINT\s+/, ''))).toEqual(['node', `--env-file-if-exists=${SETUP_ENV_FILE}`, '/app/setup-db.mjs', '--migrations', '/app/migrations']);
  });

});

const copySources = (file: string) =>
  stages(file)
    .stages.flatMap((x) => x.lines)
    .filter((l) => l.startsWith('COPY') && !l.includes('--from='))
    .flatMap((l) => l.split(/\s+/).slice(1, -1));

describe('the repository-root build context (.dockerignore)', () => {
  const bootstrap = copySources('infra/docker/bootstrap/Dockerfile');
  const runner = copySources('infra/docker/runner/Dockerfile');

  it('sends every file the bootstrap and runner images copy', () => {
    expect(dockerignore[0]).toBe('*');
    for (const src of [...bootstrap, ...runner]) {
      expect(existsSync(path.join(REPO_ROOT, src))).toBe(true);
      expect(dockerignore.some((rule) => rule === `!${src}` || rule === `!${src}/`)).toBe(true);
    }
  });

  it('sends nothing neither image copies', () => {
    const allowed = dockerignore.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/$/, ''));
    const copied = new Set([...bootstrap, ...runner]);
    expect(allowed.filter((a) => !copied.has(a))).toEqual([]);
  });

  it("hashes every path the runner image copies into its tag (ECR tags are immutable)", () => {
    for (const src of runner) expect(RUNNER_CONTEXT as readonly string[]).toContain(src);
  });
});

describe('runner Dockerfile', () => {
  const { args, stages: s } = stages('infra/docker/runner/Dockerfile');
  const [build, final] = s;

  it('pins a slim Node 22 base on Debian 13, whose own PostgreSQL 17 client it installs at an exact version', () => {
    expect(args.NODE_IMAGE).toMatch(/^node:22\.\d+\.\d+-trixie-slim$/);
    expect(s.map((x) => x.from)).toEqual(['${NODE_IMAGE}', '${NODE_IMAGE}']);
    expect(final!.lines).toContain('ARG PG_CLIENT_VERSION=17.12-0+deb13u1');
    const install = final!.lines.find((l) => l.includes('apt-get install'))!;
    expect(install).toContain('"postgresql-client-17=${PG_CLIENT_VERSION}"');
    expect(install).toContain("pg_dump --version | grep -q ' 17\\.'");
    // The server binaries: schema-drift's reference after a restore/verify is an ephemeral cluster in the task, never on RDS.
    expect(install).toContain('"postgresql-17=${PG_CLIENT_VERSION}"');
    expect(install).toContain("postgres --version | grep -q ' 17\\.'");
  });

  it('builds natively and bundles with the same script the tests run', () => {
    expect(readFileSync(path.join(REPO_ROOT, 'infra/docker/runner/Dockerfile'), 'utf8')).not.toMatch(/^FROM\s+--platform/m);
    expect(build!.lines).toContain('RUN npm ci --ignore-scripts --no-audit --no-fund --force');
    expect(build!.lines.join('\n')).toContain('node_modules/.bin/tsx infra/build/bundle.ts runner /out');
  });

  it('puts only the bundles, squawk, the RDS roots, the migrations and our SQL extensions in the final image, run as an unprivileged user', () => {
    // extensions/: a restore or verify on RDS registers our pg_uuidv7 through pg_tle from these files (core/extensions/bundled.ts reads them under the image root).
    expect(final!.lines.filter((l) => l.startsWith('COPY'))).toEqual(['COPY --from=build /out/ ./', 'COPY migrations ./migrations', 'COPY extensions ./extensions']);
    expect(final!.lines).toContain('USER node');
    expect(final!.lines.join('\n')).not.toMatch(/build-essential|npm ci|git /);
  });

  it('trusts the bundled RDS roots for Node and libpq, and points the ops commands at the 17 client tools', () => {
    const env = final!.lines.filter((l) => l.startsWith('ENV')).join(' ');
    expect(env).toContain('NODE_EXTRA_CA_CERTS=/app/rds-ca.pem');
    expect(env).toContain('PGSSLROOTCERT=/app/rds-ca.pem');
    expect(env).toContain(' PG_BIN=/usr/lib/postgresql/17/bin');
    expect(env).toContain('LOCAL_PG_BIN=/usr/lib/postgresql/17/bin');
  });

  it('starts the entrypoint with the env file the dev stack uploads', () => {
    const entry = final!.lines.find((l) => l.startsWith('ENTRYPOINT'))!;
    expect(JSON.parse(entry.replace(/^ENTRYPOINT\s+/, ''))).toEqual(['node', `--env-file-if-exists=${RUNNER_ENV_FILE}`, '/app/runner/entrypoint.mjs']);
  });
});

describe('forward Dockerfile', () => {
  it('relays with socat as an unprivileged user on a pinned base', () => {
    const { args, stages: s } = stages('infra/docker/forward/Dockerfile');
    expect(args.ALPINE_IMAGE).toMatch(/^alpine:3\.\d+\.\d+$/);
    expect(s[0]!.lines).toContain('USER nobody');
    expect(s[0]!.lines.find((l) => l.startsWith('ENTRYPOINT'))).toContain('TCP-LISTEN:5432,fork,reuseaddr');
  });
});
