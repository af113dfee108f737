import { describe, expect, it } from 'vitest';
import { parseDatabaseUrl, redactedUrl, secretUrl } from './url.ts';
import { scrub, rememberSecret } from '../secrets.ts';

describe('connection URLs', () => {
  it('parses user, password, host, port, database and sslmode', () => {
    const c = parseDatabaseUrl('postgresql://admin:p%40ss@db.internal:6432/main?sslmode=verify-full');
    expect(c).toEqual({ host: 'db.internal', port: 6432, database: 'main', user: 'admin', password: 'p@ss', ssl: 'verify-full' });
  });
  it('defaults sslmode to disable on loopback and require elsewhere', () => {
    expect(parseDatabaseUrl('postgres://a@localhost/x').ssl).toBe('disable');
    expect(parseDatabaseUrl('postgres://a@10.0.0.5/x').ssl).toBe('require');
  });
  it('rejects other schemes, missing users and unknown sslmodes', () => {
    expect(() => parseDatabaseUrl('mysql://a:b@h/x')).toThrow(/scheme "mysql"/);
    expect(() => parseDatabaseUrl('postgres://h/x')).toThrow(/no user name/);
    expect(() => parseDatabaseUrl('postgres://a@h/x?sslmode=maybe')).toThrow(/unknown sslmode "maybe"/);
  });
  it('redacts the password in every printed URL and round-trips the secret one', () => {
    const c = parseDatabaseUrl('postgres://app:hunter2hunter2@127.0.0.1:5432/app');
    expect(redactedUrl(c)).toBe('postgres://app:***@127.0.0.1:5432/app');
    expect(parseDatabaseUrl(secretUrl(c)).password).toBe('hunter2hunter2');
  });
  it('scrubs remembered secrets and URL passwords from free text', () => {
    rememberSecret('correct-horse-battery');
    expect(scrub('failed: password correct-horse-battery rejected')).toBe('failed: password *** rejected');
    expect(scrub('at postgres://u:whatever@h/db')).toBe('at postgres://u:***@h/db');
  });
});
