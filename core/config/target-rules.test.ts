import { describe, expect, it } from 'vitest';
import { decideTarget, type KindInputs } from './target-rules.ts';
import { isUserError } from '../errors.ts';

const LOOP = 'postgres://admin:pw@127.0.0.1:5432/postgres';
const SOCKET = 'postgres://admin@%2Fvar%2Frun%2Fpostgresql/postgres';
const REMOTE = 'postgres://admin:pw@db.prod.example.com/postgres';

const TARGETS = [undefined, 'local', 'dev', 'prod'] as const;
const URLS = { none: undefined, loopback: LOOP, remote: REMOTE } as const;
type UrlKind = keyof typeof URLS;

/**
 * The rules, written down a second way: which kind is chosen, which URL it connects through,
 * and when it must refuse. The table in target-rules.ts must agree on every combination.
 */
function expected(flagTarget: string | undefined, envTarget: string | undefined, flagUrl: UrlKind, envUrl: UrlKind) {
  const kind = flagTarget ?? envTarget ?? (flagUrl === 'none' ? 'local' : flagUrl === 'loopback' ? 'dev' : 'prod');
  const inSight = flagUrl !== 'none' ? { source: '--url', url: flagUrl } : envUrl !== 'none' ? { source: 'DATABASE_URL', url: envUrl } : undefined;
  if ((kind === 'local' || kind === 'dev') && inSight?.url === 'remote') return { refused: new RegExp(`^${inSight.source} points at db\\.prod\\.example\\.com, but the ${kind} target`) };
  const connectsThrough = kind === 'local' ? (inSight?.source === '--url' ? inSight : undefined) : inSight;
  if (kind === 'prod' && !connectsThrough) return { refused: /^the prod target needs DATABASE_URL/ };
  return { kind, source: connectsThrough?.source, host: connectsThrough ? (connectsThrough.url === 'remote' ? 'db.prod.example.com' : '127.0.0.1') : undefined };
}

const combos: Array<[string | undefined, string | undefined, UrlKind, UrlKind]> = [];
for (const ft of TARGETS) for (const et of TARGETS) for (const fu of Object.keys(URLS) as UrlKind[]) for (const eu of Object.keys(URLS) as UrlKind[]) combos.push([ft, et, fu, eu]);

describe('target rules: every (--target, DB_TARGET, --url, DATABASE_URL) combination', () => {
  it('covers all 144 combinations', () => expect(combos).toHaveLength(144));

  it.each(combos)('--target %s, DB_TARGET %s, --url %s, DATABASE_URL %s', (ft, et, fu, eu) => {
    const inputs: KindInputs = { flagTarget: ft, envTarget: et, flagUrl: URLS[fu], envUrl: URLS[eu] };
    const want = expected(ft, et, fu, eu);
    let got;
    try {
      got = decideTarget(inputs);
    } catch (e) {
      expect(isUserError(e), String(e)).toBe(true);
      expect('refused' in want, `refused unexpectedly: ${(e as Error).message}`).toBe(true);
      expect((e as Error).message).toMatch((want as { refused: RegExp }).refused);
      // one line, the host named, never the password
      expect((e as Error).message).not.toMatch(/\n|:pw@/);
      return;
    }
    expect('refused' in want, `accepted ${JSON.stringify(got)}`).toBe(false);
    expect(got.kind).toBe((want as { kind: string }).kind);
    expect(got.url?.source).toBe((want as { source?: string }).source);
    expect(got.url?.settings.host).toBe((want as { host?: string }).host);
    // The invariant the table exists for: a disposable target never reaches another machine.
    if (got.kind !== 'prod') expect(got.url === undefined || ['127.0.0.1', '/var/run/postgresql'].includes(got.url.settings.host)).toBe(true);
  });
});

describe('target rules: the cases people hit', () => {
  it("refuses the issue's reproduction: --target local with a remote URL", () => {
    expect(() => decideTarget({ flagTarget: 'local', flagUrl: 'postgres://admin:x@db.prod.example.com/postgres' })).toThrow(
      /^--url points at db\.prod\.example\.com, but the local target \(from --target\) may only reach loopback or a Unix socket; nothing was done$/,
    );
    expect(() => decideTarget({ envTarget: 'local', envUrl: 'postgres://admin:x@db.prod.example.com/postgres' })).toThrow(/from DB_TARGET/);
  });

  it('names the fix that fits the source', () => {
    try {
      decideTarget({ envUrl: REMOTE });
      expect.unreachable();
    } catch (e) {
      expect((e as { fix?: string }).fix).toBe('unset DATABASE_URL, or pass --target prod to act on db.prod.example.com');
      expect((e as Error).message).toMatch(/the local target \(the default\)/);
    }
  });

  it('accepts every loopback spelling and Unix sockets for local and dev, and nothing that only looks like one', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '[::1]']) {
      expect(decideTarget({ flagTarget: 'local', flagUrl: `postgres://a@${host}/postgres` }).url?.settings.host).toBe(host.replace(/[[\]]/g, ''));
    }
    expect(decideTarget({ flagTarget: 'dev', flagUrl: SOCKET }).url?.settings.host).toBe('/var/run/postgresql');
    expect(decideTarget({ flagTarget: 'dev', flagUrl: 'postgres://a@localhost/app?host=/tmp' }).url?.settings.host).toBe('/tmp');
    for (const host of ['127.evil.example.com', '127.0.0.1.nip.io', '128.0.0.1', '10.0.0.5', '0.0.0.0', 'localhost.example.com']) {
      expect(() => decideTarget({ flagTarget: 'dev', flagUrl: `postgres://a@${host}/postgres` }), host).toThrow(/may only reach loopback/);
    }
  });

  it('lets dev reach one more host only when DEV_DB_HOST names it (the dev stack\'s own network)', () => {
    const inNetwork = 'postgres://postgres:pw@pgsteward-dev-postgres:5432/postgres';
    try {
      decideTarget({ envTarget: 'dev', envUrl: inNetwork });
      expect.unreachable();
    } catch (e) {
      expect((e as { fix?: string }).fix).toMatch(/name its database host in DEV_DB_HOST/);
    }
    expect(decideTarget({ envTarget: 'dev', envUrl: inNetwork, devHost: 'pgsteward-dev-postgres' }).url?.settings.host).toBe('pgsteward-dev-postgres');
    expect(() => decideTarget({ envTarget: 'dev', envUrl: REMOTE, devHost: 'pgsteward-dev-postgres' })).toThrow(/may only reach loopback/);
    expect(() => decideTarget({ envTarget: 'local', envUrl: inNetwork, devHost: 'pgsteward-dev-postgres' })).toThrow(/may only reach loopback/);
  });

  it('leaves a DATABASE_URL the local target does not read alone, even when it is not a postgres URL', () => {
    expect(decideTarget({ envUrl: LOOP })).toEqual({ kind: 'local', kindFrom: 'default', url: undefined });
    expect(decideTarget({ envUrl: 'sqlite://data.db' }).kind).toBe('local');
    expect(() => decideTarget({ flagTarget: 'dev', envUrl: 'sqlite://data.db' })).toThrow(/DATABASE_URL has scheme "sqlite"/);
  });

  it('lets prod reach loopback (an SSM port forward) but never without TLS elsewhere', () => {
    expect(decideTarget({ flagTarget: 'prod', envUrl: 'postgres://m:p@127.0.0.1:15433/postgres?sslmode=require' }).kind).toBe('prod');
    expect(() => decideTarget({ flagTarget: 'prod', envUrl: 'postgres://m:p@rds.internal/postgres?sslmode=disable' })).toThrow(/refuses sslmode=disable/);
  });

  it('rejects unknown kinds, naming where they came from', () => {
    expect(() => decideTarget({ flagTarget: 'staging' })).toThrow(/unknown target "staging" in --target/);
    expect(() => decideTarget({ envTarget: 'qa' })).toThrow(/unknown target "qa" in DB_TARGET/);
  });
});
