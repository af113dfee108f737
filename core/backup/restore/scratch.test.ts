import { describe, expect, it } from 'vitest';
import { isAbandoned, parseScratchMarker, scratchDatabaseName, scratchMarker } from './scratch.ts';

describe('scratch database markers', () => {
  const m = { purpose: 'verify' as const, host: 'ci-1', pid: 4242, startedAt: '2026-11-25T03:15:00.000Z' };

  it('round-trips, and nothing but our own marker parses', () => {
    expect(parseScratchMarker(scratchMarker(m))).toEqual(m);
    expect(parseScratchMarker(null)).toBeUndefined();
    expect(parseScratchMarker('customer database, do not drop')).toBeUndefined();
    expect(parseScratchMarker('pgsteward scratch database {"purpose":"other","host":"h","pid":1,"startedAt":"x"}')).toBeUndefined();
    expect(parseScratchMarker('pgsteward scratch database {not json')).toBeUndefined();
  });

  it('is abandoned only when made on this host by a process that is gone', () => {
    expect(isAbandoned(m, { host: 'ci-1', alive: () => false })).toBe(true);
    expect(isAbandoned(m, { host: 'ci-1', alive: (pid) => pid === 4242 })).toBe(false);
    expect(isAbandoned(m, { host: 'laptop', alive: () => false })).toBe(false);
  });

  it('names stay under 63 bytes and lower case', () => {
    const n = scratchDatabaseName('a'.repeat(48), 'restore', new Date('2026-11-25T03:15:00Z'));
    expect(n).toMatch(/^a{24}_restore_20261125t031500z_[0-9a-f]{4}$/);
    expect(n.length).toBeLessThanOrEqual(63);
  });
});
