import { describe, expect, it } from 'vitest';
import type { ChecksReport, CheckResult } from '../types.ts';
import { exitCodeFor } from './exit-code.ts';
import { formatHuman, summaryLine } from './human.ts';
import { toJson } from './json.ts';
import { toJunit, xmlEscape } from './junit.ts';

function result(id: string, extra: Partial<CheckResult>): CheckResult {
  const passed = extra.passed ?? [];
  return { id, title: `${id} title`, rationale: 'why', severity: 'error', status: 'passed', passed, passedCount: passed.length, findings: [], queries: 1, durationMs: 5, ...extra };
}

const report: ChecksReport = {
  database: 'app',
  policiesNotEvaluated: [],
  queries: 12,
  durationMs: 345,
  ok: false,
  summary: { passed: 41, failed: 2, warnings: 1 },
  results: [
    result('primary-keys', { passed: Array.from({ length: 41 }, (_, i) => `public.t${i}: ok`) }),
    result('foreign-key-indexes', {
      status: 'failed',
      findings: [
        { severity: 'error', object: 'public.orders.orders_account_id_fkey', message: 'no index <here> & "there"', fix: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_account_id_idx ON public.orders (account_id);', fixable: true },
        { severity: 'error', object: 'public.items.items_order_id_fkey', message: 'no index', fix: 'CREATE INDEX …', fixable: true },
      ],
    }),
    result('duplicate-indexes', { severity: 'warning', status: 'warning', findings: [{ severity: 'warning', object: 'public.a_idx', message: 'duplicate', fix: 'DROP INDEX CONCURRENTLY IF EXISTS public.a_idx;', fixable: true }] }),
  ],
};

describe('human report', () => {
  it('groups findings under their check with ✓/✗/! and ends with the summary line', () => {
    const text = formatHuman(report);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^✓ primary-keys {9}primary-keys title \(41 passed\)$/);
    expect(lines[1]).toMatch(/^✗ foreign-key-indexes {2}foreign-key-indexes title \(2 failed, 0 passed\)$/);
    expect(lines[2]).toBe('    ✗ public.orders.orders_account_id_fkey: no index <here> & "there"');
    expect(lines[3]).toBe('      fix: CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_account_id_idx ON public.orders (account_id);');
    expect(text).toContain('! duplicate-indexes');
    expect(lines[lines.length - 1]).toBe('41 passed, 2 failed, 1 warning in 0.3 s, 12 queries');
    expect(text).not.toMatch(/\u001b\[/);
  });

  it('pluralizes and mentions checks that could not run', () => {
    expect(summaryLine({ summary: { passed: 1, failed: 1, warnings: 2 }, results: [result('x', { status: 'error', error: 'boom' })] })).toBe('1 passed, 1 failed, 2 warnings, 1 could not run');
  });
});

describe('exit codes', () => {
  it('is 0 when clean, 1 on error findings or strict warnings, 2 when a check could not run', () => {
    const clean = { summary: { passed: 3, failed: 0, warnings: 0 }, results: [] };
    const warned = { summary: { passed: 3, failed: 0, warnings: 1 }, results: [] };
    expect(exitCodeFor(clean, false)).toBe(0);
    expect(exitCodeFor(warned, false)).toBe(0);
    expect(exitCodeFor(warned, true)).toBe(1);
    expect(exitCodeFor(report, false)).toBe(1);
    expect(exitCodeFor({ summary: { passed: 0, failed: 1, warnings: 0 }, results: [result('x', { status: 'error' })] }, false)).toBe(2);
  });
});

describe('json report', () => {
  it('has the documented, stable shape', () => {
    const doc = toJson(report, { strict: false, exitCode: 1 });
    expect(Object.keys(doc)).toEqual(['schemaVersion', 'database', 'ok', 'exitCode', 'strict', 'summary', 'queries', 'durationMs', 'checks', 'policiesNotEvaluated']);
    expect(doc.schemaVersion).toBe(1);
    // schemaVersion 1's fields keep their order and meaning; later fields are appended.
    expect(Object.keys(doc.checks[0]!)).toEqual(['id', 'title', 'rationale', 'severity', 'status', 'error', 'passed', 'findings', 'queries', 'durationMs', 'passedCount']);
    expect(Object.keys(doc.checks[1]!.findings[0]!)).toEqual(['severity', 'object', 'message', 'fix', 'fixable']);
    expect(doc.checks[0]!.passedCount).toBe(41);
    expect(doc.ok).toBe(false);
  });
});

describe('junit report', () => {
  it('has a suite per check, failures for errors, warnings as output unless strict, and escapes XML', () => {
    const xml = toJunit(report, { strict: false });
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="pgsteward checks: app" tests="44" failures="2" errors="0"/);
    expect(xml).toContain('<testsuite name="foreign-key-indexes" tests="2" failures="2" errors="0"');
    expect(xml).toContain('no index &lt;here&gt; &amp; &quot;there&quot;');
    expect(xml).toContain('<system-out>warning: duplicate');
    expect(toJunit(report, { strict: true })).toContain('failures="3"');
    expect(xmlEscape('a\u0001b')).toBe('ab');
  });
});

describe('counted subjects', () => {
  it('shows and sums the subjects a check counted, not its lines', () => {
    const counted = result('primary-keys', { passed: ['1,009 tables: uuid primary key DEFAULT uuid_generate_v7()'], passedCount: 1009 });
    const r: ChecksReport = { ...report, results: [counted], summary: { passed: 1009, failed: 0, warnings: 0 } };
    expect(formatHuman(r).split('\n')[0]).toMatch(/\(1009 passed\)$/);
    expect(toJson(r, { strict: false, exitCode: 0 }).checks[0]).toMatchObject({ passed: ['1,009 tables: uuid primary key DEFAULT uuid_generate_v7()'], passedCount: 1009 });
  });
});
