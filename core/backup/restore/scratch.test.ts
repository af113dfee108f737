import { describe, expect, it } from 'vitest';
import { scratchDatabaseName } from './scratch.ts';

describe('scratch database names', () => {
  it('names stay under 63 bytes and lower case', () => {
    const n = scratchDatabaseName('a'.repeat(48), 'restore', new Date('2026-11-25T03:15:00Z'));
    expect(n).toMatch(/^a{24}_restore_20261125t031500z_[0-9a-f]{4}$/);
    expect(n.length).toBeLessThanOrEqual(63);
  });
});
