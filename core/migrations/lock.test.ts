import { describe, expect, it } from 'vitest';
import { sqlxLockKey } from './lock.ts';

describe('sqlx advisory lock key', () => {
  it('matches sqlx for the database "postgres"', () => {
    expect(sqlxLockKey('postgres')).toBe(368907709894077238n);
  });
  it('differs per database', () => {
    expect(sqlxLockKey('app')).not.toBe(sqlxLockKey('postgres'));
  });
});
