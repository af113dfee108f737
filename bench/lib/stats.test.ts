import { describe, expect, it } from 'vitest';
import { borderline, formatBytes, formatMs, formatNumber, formatRatio, median, ratio, summarize, verdict } from './stats.ts';

describe('median', () => {
  it('takes the middle sample of an odd count, whatever the order', () => {
    expect(median([5, 1, 9, 3, 7])).toBe(5);
  });
  it('averages the middle two of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('is not moved by one wild outlier, unlike the mean', () => {
    expect(median([10, 11, 12, 10, 5000])).toBe(11);
  });
  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
  it('refuses an empty list instead of inventing a number', () => {
    expect(() => median([])).toThrow(/no samples/);
  });
});

describe('summarize', () => {
  it('gives median, range and count', () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
  });
});

describe('ratio and verdict', () => {
  it('divides', () => {
    expect(ratio(3, 4)).toBe(0.75);
  });
  it('is undefined for a zero or non-finite denominator', () => {
    expect(ratio(1, 0)).toBeUndefined();
    expect(ratio(Number.NaN, 1)).toBeUndefined();
  });
  it('judges both directions of target, inclusive at the boundary', () => {
    expect(verdict(0.8, { op: '<=', value: 0.8 })).toBe('confirmed');
    expect(verdict(0.81, { op: '<=', value: 0.8 })).toBe('refuted');
    expect(verdict(100, { op: '>=', value: 100 })).toBe('confirmed');
    expect(verdict(99.9, { op: '>=', value: 100 })).toBe('refuted');
  });
  it('says when there is nothing to judge', () => {
    expect(verdict(2, undefined)).toBe('no target');
    expect(verdict(undefined, { op: '<=', value: 1 })).toBe('not measured');
  });
});

describe('formatting', () => {
  it('keeps three significant digits', () => {
    expect(formatNumber(0.7134)).toBe('0.713');
    expect(formatNumber(1.2345)).toBe('1.23');
    expect(formatNumber(47.66)).toBe('47.7');
    expect(formatNumber(152.4)).toBe('152');
    expect(formatNumber(1234567.8)).toBe('1,234,568');
    expect(formatNumber(0)).toBe('0');
  });
  it('formats sizes, durations and ratios', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(31_563_776)).toBe('30.1 MiB');
    expect(formatMs(0.84)).toBe('0.840 ms');
    expect(formatMs(4210)).toBe('4.21 s');
    expect(formatRatio(0.7134)).toBe('0.713×');
    expect(formatRatio(undefined)).toBe('n/a');
  });
});

describe('borderline', () => {
  it('flags a verdict within 10% of its target, on either side', () => {
    expect(borderline(0.79, { op: '<=', value: 0.8 })).toBe(true);
    expect(borderline(0.86, { op: '<=', value: 0.8 })).toBe(true);
    expect(borderline(92, { op: '>=', value: 100 })).toBe(true);
  });
  it('leaves clear results and ratios without a target alone', () => {
    expect(borderline(0.6, { op: '<=', value: 0.8 })).toBe(false);
    expect(borderline(300, { op: '>=', value: 100 })).toBe(false);
    expect(borderline(1, undefined)).toBe(false);
    expect(borderline(1, { op: '<=', value: 1 })).toBe(false);
    expect(borderline(undefined, { op: '<=', value: 1 })).toBe(false);
  });
});
