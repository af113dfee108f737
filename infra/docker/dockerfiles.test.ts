import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../core/paths.ts';
import { DEFAULT_POSTGRES_BASE_IMAGE } from '../config.ts';
import { SETUP_ENV_FILE } from '../dev/bootstrap.ts';

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

  it('bundles setup-db with the same script the tests run', () => {
    expect(build!.lines).toContain('RUN node_modules/.bin/tsx infra/build/bundle.ts setup-db /out');
    expect(build!.lines).toContain('RUN npm ci --ignore-scripts --no-audit --no-fund');
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

  it('sends every file it copies, and nothing else, in the build context', () => {
    expect(dockerignore[0]).toBe('*');
    const sources = s
      .flatMap((x) => x.lines)
      .filter((l) => l.startsWith('COPY') && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    for (const src of sources) {
      expect(existsSync(path.join(REPO_ROOT, src))).toBe(true);
      expect(dockerignore.some((rule) => rule === `!${src}` || rule === `!${src}/`)).toBe(true);
    }
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
