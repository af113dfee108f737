import { describe, expect, it } from 'vitest';
import { applyIgnores, validateIgnores } from './ignores.ts';

describe('applyIgnores', () => {
  const outcome = {
    passed: ['12 indexes: none duplicates another or leads a wider one'],
    passedCount: 12,
    findings: [
      { object: 'public.a_idx', message: 'duplicates public.b_idx', fix: 'DROP INDEX CONCURRENTLY IF EXISTS public.a_idx;', fixable: true },
      { object: 'public.c_idx', message: 'duplicates public.d_idx', fix: 'DROP INDEX CONCURRENTLY IF EXISTS public.c_idx;', fixable: true },
    ],
  };

  it('moves a silenced finding to passed with its reason, and leaves the others', () => {
    const out = applyIgnores('duplicate-indexes', outcome, [{ check: 'duplicate-indexes', object: 'public.a_idx', reason: 'kept for the reporting replica (OPS-7)' }]);
    expect(out.findings.map((f) => f.object)).toEqual(['public.c_idx']);
    expect(out.passed).toContain('public.a_idx: ignored (kept for the reporting replica (OPS-7)): duplicates public.b_idx');
    expect(out.passedCount).toBe(13);
  });

  it("ignores other checks' entries, and reports a stale entry as a warning", () => {
    expect(applyIgnores('duplicate-indexes', outcome, [{ check: 'search', object: 'public.a_idx', reason: 'x' }])).toBe(outcome);
    const out = applyIgnores('duplicate-indexes', outcome, [{ check: 'duplicate-indexes', object: 'public.gone_idx', reason: 'OPS-7' }]);
    expect(out.findings.at(-1)).toMatchObject({ object: 'public.gone_idx', severity: 'warning', message: expect.stringMatching(/matches no finding/) });
  });

  it('refuses entries without a reason or object, or for an unknown check', () => {
    expect(() => validateIgnores([{ check: 'nope', object: 'x', reason: 'y' }], ['search'])).toThrow(/unknown check "nope"/);
    expect(() => validateIgnores([{ check: 'search', object: '', reason: 'y' }], ['search'])).toThrow(/names no object/);
    expect(() => validateIgnores([{ check: 'search', object: 'x', reason: '' }], ['search'])).toThrow(/gives no reason/);
    expect(() => validateIgnores([{ check: 'search', object: 'x', reason: 'why' }], ['search'])).not.toThrow();
  });
});
