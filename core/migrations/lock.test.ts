import { describe, expect, it } from 'vitest';
import { parseLockWaitTimeout, sqlxLockKey } from './lock.ts';

describe('sqlx advisory lock key', () => {
  it('matches sqlx for the database "postgres"', () => {
    expect(sqlxLockKey('postgres')).toBe(368907709894077238n);
  });
  it('differs per database', () => {
    expect(sqlxLockKey('app')).not.toBe(sqlxLockKey('postgres'));
  });
});

describe('--lock-wait-timeout values', () => {
  it('reads seconds by default, and ms, s, min units', () => {
    expect(parseLockWaitTimeout('60')).toBe(60_000);
    expect(parseLockWaitTimeout('1.5s')).toBe(1_500);
    expect(parseLockWaitTimeout('250ms')).toBe(250);
    expect(parseLockWaitTimeout('2min')).toBe(120_000);
    expect(parseLockWaitTimeout(' 10 s ')).toBe(10_000);
  });
  it('refuses zero, negatives, junk and values PostgreSQL cannot hold, in one line', () => {
    for (const bad of ['0', '-5', 'soon', '5h', '', '0.0001ms', '30d']) {
      expect(() => parseLockWaitTimeout(bad)).toThrow(/^--lock-wait-timeout ".*" is not a duration between 1 ms and 24 days$/);
    }
    try {
      parseLockWaitTimeout('soon');
    } catch (e) {
      expect((e as { fix?: string }).fix).toBe('give seconds (60), or a number with ms, s or min (500ms, 30s, 2min)');
    }
  });
});
