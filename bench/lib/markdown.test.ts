import { describe, expect, it } from 'vitest';
import { BenchmarkRecorder, type RunResults } from './results.ts';
import { cell, formatParam, formatTarget, ratioLines, renderMarkdown, table, verdictText } from './markdown.ts';

function sample(): RunResults {
  const uuid = new BenchmarkRecorder('uuid', 'UUIDv7 vs random UUIDs', 'Is v7 smaller?');
  uuid.server('17.10', '/pg/bin').param('rows per table', 1_000_000);
  uuid.measure('pkey_v7', 'v7 index', 'bytes', [31_563_776, 31_563_776, 31_563_776, 31_563_776, 31_563_776]);
  uuid.measure('pkey_v4', 'v4 index', 'bytes', [39_755_776, 39_755_776, 39_755_776, 39_755_776, 39_755_776]);
  uuid.measure('t7', 'v7 insert', 'ms', [9000, 9100, 9200, 9300, 9400]);
  uuid.measure('t4', 'v4 insert', 'ms', [8800, 8900, 8870, 8850, 8990]);
  uuid.ratio('insert', 'insert time v7/v4', 't7', 't4');
  uuid.ratio('pkey', 'index size v7/v4', 'pkey_v7', 'pkey_v4', { target: { op: '<=', value: 0.8 }, headline: true });
  uuid.note('Index | size note.');
  const checks = new BenchmarkRecorder('checks', 'Checks scaling', 'Flat?');
  checks.result.status = 'unavailable';
  checks.result.reason = 'checks/suite.ts is missing';
  return {
    tool: 'pgsteward bench',
    scale: 'full',
    startedAt: '2026-01-02T03:04:05.678Z',
    finishedAt: '2026-01-02T03:24:05.678Z',
    durationMs: 1_200_000,
    machine: { cpus: 2, memoryGiB: 23.5, node: 'v20.0.0', platform: 'linux x64' },
    benchmarks: [uuid.result, checks.result],
  };
}

describe('renderMarkdown', () => {
  const md = renderMarkdown(sample());

  it('opens with the date, scale, machine and PostgreSQL version', () => {
    expect(md).toMatch(/^# Benchmarks\n/);
    expect(md).toContain('Measured 2026-01-02 03:04:05 UTC at scale **full** on 2 CPUs, 23.5 GiB');
    expect(md).toContain('PostgreSQL 17.10');
  });

  it('summarises each benchmark by its headline ratio and verdict, and names the unmeasured', () => {
    expect(md).toContain('| 1. UUIDv7 vs random UUIDs | index size v7/v4 | 0.794× | ≤ 0.8 | ✅ confirmed (borderline) |');
    expect(md).toContain('| 2. Checks scaling | not measured: checks/suite.ts is missing |');
  });

  it('gives each benchmark a ratio table with both medians, raw medians and parameters', () => {
    expect(md).toContain('## 1. UUIDv7 vs random UUIDs');
    expect(md).toContain('| **index size v7/v4** | **0.794×** | ≤ 0.8 | ✅ confirmed (borderline) | 30.1 MiB | 37.9 MiB |');
    expect(md).toContain('| insert time v7/v4 | 1.04× |  |  | 9.20 s | 8.87 s |');
    expect(md).toContain('| v7 insert | 9.20 s | 9.00 s – 9.40 s | 5 |');
    expect(md).toContain('| rows per table | 1,000,000 |');
    expect(md).toContain('- Index | size note.');
    expect(md).toContain('**Not measured:** checks/suite.ts is missing');
  });

  it('is the same text for the same results', () => {
    expect(renderMarkdown(sample())).toBe(md);
  });
});

describe('markdown pieces', () => {
  it('escapes pipes inside cells so a table never breaks', () => {
    expect(cell('a|b\nc')).toBe('a\\|b c');
    expect(table(['x'], [['1|2']])).toBe('| x |\n|---|\n| 1\\|2 |');
  });
  it('keeps counts whole and measured values short', () => {
    expect(formatParam(20)).toBe('20');
    expect(formatParam(1_000_000)).toBe('1,000,000');
    expect(formatParam(21.74)).toBe('21.7');
    expect(formatParam('one (#22)')).toBe('one (#22)');
  });
  it('marks verdicts that noise could flip', () => {
    expect(verdictText({ verdict: 'refuted', value: 92, target: { op: '>=', value: 100 } })).toBe('❌ refuted (borderline)');
    expect(verdictText({ verdict: 'confirmed', value: 61, target: { op: '>=', value: 20 } })).toBe('✅ confirmed');
    expect(verdictText({ verdict: 'no target', value: 2, target: undefined })).toBe('');
  });
  it('writes targets with mathematical signs', () => {
    expect(formatTarget({ op: '>=', value: 20 })).toBe('≥ 20');
    expect(formatTarget(undefined)).toBe('');
  });
  it('prints the headline ratio last, with its verdict', () => {
    const lines = ratioLines(sample().benchmarks[0]!);
    expect(lines).toEqual(['uuid: insert time v7/v4 = 1.04×', 'uuid: index size v7/v4 = 0.794× (target ≤ 0.8: confirmed, borderline)']);
    expect(ratioLines(sample().benchmarks[1]!)).toEqual(['checks: not measured: checks/suite.ts is missing']);
  });
});
