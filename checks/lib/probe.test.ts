import { describe, expect, it } from 'vitest';
import { probeRowFix, probeRowOf, skippedProbeLines } from './probe.ts';

describe('probe rows', () => {
  it('a table without a probe row gets a passing line saying the probe was skipped, listed or counted alike', () => {
    expect(skippedProbeLines(true, ['public.sessions', 'public.events'], 'update')).toEqual({
      passed: [
        'public.sessions: update probe skipped, no row in checks.probeRows["public.sessions"] (checked by catalog alone)',
        'public.events: update probe skipped, no row in checks.probeRows["public.events"] (checked by catalog alone)',
      ],
      passedCount: 2,
      findings: [],
    });
    expect(skippedProbeLines(false, 1009, 'insert')).toEqual({ passed: ['1,009 tables: insert probe skipped, no row in checks.probeRows (checked by catalog alone)'], passedCount: 1009, findings: [] });
    expect(skippedProbeLines(false, 0, 'insert')).toEqual({ passed: [], passedCount: 0, findings: [] });
  });

  it('a probe row that fails is fixed at its key in the file', () => {
    expect(probeRowFix({ configFile: '/srv/shop/pgsteward.config.json' }, 'public.users')).toBe('fix checks.probeRows["public.users"] in /srv/shop/pgsteward.config.json');
    expect(probeRowFix({ configFile: undefined }, 'public.users', ", or the table's constraints")).toBe('fix checks.probeRows["public.users"] in pgsteward.config.json, or the table\'s constraints');
    expect(probeRowOf({ probeRows: { 'public.users': { email: 'a' } } }, 'public.users')).toEqual({ email: 'a' });
    expect(probeRowOf({ probeRows: {} }, 'constructor')).toBeUndefined();
  });
});
