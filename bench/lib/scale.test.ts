import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.ts';
import { parseScale, SCALES } from './scale.ts';

describe('scales', () => {
  it('full uses the sizes the issue asks for', () => {
    const f = SCALES.full;
    expect(f.uuid.rows).toBe(1_000_000);
    expect(f.uuid.lookups).toBe(10_000);
    expect(f.search.phrases).toBe(1_000_000);
    expect([f.checks.fewTables, f.checks.manyTables]).toEqual([10, 1000]);
    expect(f.checks.tables).toEqual([10, 100, 1000, 3000]);
    for (const s of Object.values(SCALES)) expect(s.checks.tables).toEqual(expect.arrayContaining([s.checks.fewTables, s.checks.manyTables]));
    expect(f.backup.targetMiB).toBe(500);
  });
  it('repeats every timed step at least five times at every scale', () => {
    for (const s of Object.values(SCALES)) {
      expect(s.reps).toBeGreaterThanOrEqual(5);
      expect(s.queryReps).toBeGreaterThanOrEqual(5);
    }
  });
  it('grows from tiny to full', () => {
    expect(SCALES.tiny.uuid.rows).toBeLessThan(SCALES.small.uuid.rows);
    expect(SCALES.small.uuid.rows).toBeLessThan(SCALES.full.uuid.rows);
  });
  it('refuses an unknown scale with the fix', () => {
    expect(() => parseScale('huge')).toThrow(UserError);
    expect(() => parseScale('huge')).toThrow(/unknown scale "huge"/);
    expect(parseScale('tiny').name).toBe('tiny');
  });
});
