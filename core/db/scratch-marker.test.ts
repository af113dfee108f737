import { describe, expect, it } from 'vitest';
import { isAbandoned, markerText, parseMarker, type ScratchMarker } from './scratch-marker.ts';

const m: ScratchMarker = { purpose: 'verify', host: 'ci-1', pid: 4242, startedAt: '2026-12-01T10:00:00.000Z' };

describe('scratch markers', () => {
  it('round-trip, and nothing but our own marker parses', () => {
    expect(parseMarker(markerText(m))).toEqual(m);
    expect(parseMarker(null)).toBeUndefined();
    expect(parseMarker('customer database, do not drop')).toBeUndefined();
    expect(parseMarker('pgsteward scratch {not json')).toBeUndefined();
    expect(parseMarker('pgsteward scratch {"purpose":"verify","host":"h","pid":"1","startedAt":"x"}')).toBeUndefined();
    expect(parseMarker('pgsteward scratch {"purpose":"verify","host":"h","pid":1.5,"startedAt":"x"}')).toBeUndefined();
  });

  it("is abandoned when its process is gone on this host; another host's only after a day", () => {
    const now = new Date('2026-12-01T12:00:00.000Z');
    expect(isAbandoned(m, { host: 'ci-1', now, alive: () => false })).toBe(true);
    expect(isAbandoned(m, { host: 'ci-1', now, alive: (pid) => pid === 4242 })).toBe(false);
    expect(isAbandoned(m, { host: 'laptop', now, alive: () => false })).toBe(false);
    expect(isAbandoned(m, { host: 'laptop', now: new Date('2026-12-02T10:00:01.000Z'), alive: () => true })).toBe(true);
  });
});
