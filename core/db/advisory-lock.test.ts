import { describe, expect, it } from 'vitest';
import { withConnection } from './connect.ts';
import { acquireAdvisoryLock, describeHolder, lockHolders, lockKeyParts, withAdvisoryLock } from './advisory-lock.ts';
import { sqlxLockKey } from '../migrations/lock.ts';
import { pgAdmin } from '../../test/db.ts';

describe('advisory locks', () => {
  it('splits a key the way pg_locks shows it', () => {
    expect(lockKeyParts(0x0000000500000007n)).toEqual({ classid: 5, objid: 7 });
    expect(lockKeyParts(-1n)).toEqual({ classid: 0xffffffff, objid: 0xffffffff });
  });

  it('names the holder when the wait times out, and succeeds once it is released', async () => {
    const key = sqlxLockKey(`lock-test-${process.pid}`);
    await withConnection(pgAdmin(), { applicationName: 'lock-holder-probe' }, async (holder) => {
      await acquireAdvisoryLock(holder, key, { timeoutMs: 1000, what: 'the test lock' });
      const [h] = await lockHolders(holder, key);
      expect(h!.applicationName).toBe('lock-holder-probe');
      await withConnection(pgAdmin(), {}, async (waiter) => {
        const started = Date.now();
        const err = (await acquireAdvisoryLock(waiter, key, { timeoutMs: 300, what: 'the test lock', idleHint: 'an idle holder may be a stuck client' }).catch((e: unknown) => e)) as Error;
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
        expect(err.message).toMatch(/timed out after 300 ms waiting for the test lock, held by pid \d+ \(lock-holder-probe, user postgres, idle since /);
        expect((err as { line?: string }).line).toContain('an idle holder may be a stuck client');
        // lock_timeout is restored afterwards
        expect((await waiter`show lock_timeout`)[0]!.lock_timeout).toBe('0');
        await holder`select pg_advisory_unlock(${key.toString()})`;
        expect(await withAdvisoryLock(waiter, key, { timeoutMs: 1000, what: 'the test lock' }, async () => 'ran')).toBe('ran');
        expect(await lockHolders(waiter, key)).toEqual([]);
      });
    });
  });

  it('describes a holder on one line', () => {
    expect(describeHolder({ pid: 7, applicationName: '', user: 'u', state: 'active', since: new Date('2026-12-01T10:00:00.123Z') })).toBe('pid 7 (no application name, user u, active since 2026-12-01T10:00:00Z)');
  });
});
