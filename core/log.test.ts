import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log.ts';
import { rememberSecret } from './secrets.ts';

function capture(opts: { pretty?: boolean } = {}) {
  let out = '';
  const stream = Object.assign(new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) }), { isTTY: false });
  return { log: createLogger({ name: 'test', stream, level: 'debug', ...opts }), out: () => out };
}

describe('logger', () => {
  it('writes JSON lines off a TTY, with time, level, name and fields', () => {
    const { log, out } = capture();
    log.info({ backup: 'local-20261125T031500Z.dump', bytes: 42 }, 'backup finished');
    const line = JSON.parse(out());
    expect(line).toMatchObject({ level: 30, name: 'test', backup: 'local-20261125T031500Z.dump', bytes: 42, msg: 'backup finished' });
    expect(Date.parse(line.time)).not.toBeNaN();
  });

  it('redacts secrets by key and scrubs known secrets and URL passwords from every line', () => {
    const secret = 'Sup3r-Secret-Value-xyz';
    rememberSecret(secret);
    const { log, out } = capture();
    log.info({ password: 'by-key-1234', conn: { password: 'nested-5678', user: 'app' }, env: { PGPASSWORD: 'env-9999' }, url: 'postgres://u:p@h/db' }, 'connecting');
    log.warn(`driver said: auth failed for ${secret}`);
    log.error({ err: new Error(`cannot connect to postgres://app:${secret}@db:5432/app`) }, 'failed');
    log.info({ note: 'see postgres://admin:hunter2hunter2@10.0.0.1/app' }, 'x');
    const text = out();
    for (const s of ['by-key-1234', 'nested-5678', 'env-9999', 'postgres://u:p@', secret, 'hunter2hunter2']) expect(text).not.toContain(s);
    expect(text).toContain('postgres://admin:***@10.0.0.1/app');
    expect(text).toContain('"user":"app"');
    // errors are one line, without a stack
    const err = JSON.parse(text.trim().split('\n')[2]!);
    expect(err.err.message).toBe('cannot connect to postgres://app:***@db:5432/app');
    expect(err.err.stack).toBeUndefined();
  });

  it('pretty output (for a TTY) is scrubbed too', () => {
    const secret = 'Pretty-Secret-Value-abc';
    rememberSecret(secret);
    const { log, out } = capture({ pretty: true });
    log.info({ detail: `x ${secret} y` }, 'pretty line');
    expect(out()).toContain('pretty line');
    expect(out()).not.toContain(secret);
    expect(() => JSON.parse(out())).toThrow();
  });
});
