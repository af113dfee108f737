import { describe, expect, it } from 'vitest';
import { BenchmarkRecorder, parseResults, ratiosForPrint } from './results.ts';

describe('BenchmarkRecorder', () => {
  it('computes a ratio as median over median, traceable to both measurements', () => {
    const rec = new BenchmarkRecorder('uuid', 't', 'q');
    rec.measure('a', 'A', 'bytes', [70, 80, 75, 1000, 72]);
    rec.measure('b', 'B', 'bytes', [100, 100, 99, 101, 100]);
    const r = rec.ratio('size', 'a/b', 'a', 'b', { target: { op: '<=', value: 0.8 }, headline: true });
    expect(r.value).toBeCloseTo(0.75, 10);
    expect(r).toMatchObject({ numerator: 'a', denominator: 'b', verdict: 'confirmed', headline: true });
    expect(rec.get('a')).toMatchObject({ median: 75, min: 70, max: 1000, n: 5 });
  });

  it('refutes a ratio that misses its target', () => {
    const rec = new BenchmarkRecorder('search', 't', 'q');
    rec.measure('seq', 'seq', 'ms', [50, 50, 50, 50, 50]);
    rec.measure('gin', 'gin', 'ms', [1, 1, 1, 1, 1]);
    expect(rec.ratio('x', 'x', 'seq', 'gin', { target: { op: '>=', value: 100 } }).verdict).toBe('refuted');
  });

  it('refuses a ratio over a measurement that was never taken, and duplicate keys', () => {
    const rec = new BenchmarkRecorder('uuid', 't', 'q');
    rec.measure('a', 'A', 'ms', [1]);
    expect(() => rec.ratio('r', 'r', 'a', 'missing')).toThrow(/no measurement missing/);
    expect(() => rec.measure('a', 'A', 'ms', [2])).toThrow(/twice/);
  });

  it('prints the headline last', () => {
    const rec = new BenchmarkRecorder('uuid', 't', 'q');
    rec.measure('a', 'A', 'ms', [1]);
    rec.ratio('h', 'headline', 'a', 'a', { headline: true });
    rec.ratio('o', 'other', 'a', 'a');
    expect(ratiosForPrint(rec.result).map((r) => r.key)).toEqual(['o', 'h']);
  });
});

describe('parseResults', () => {
  const good = { tool: 'pgsteward bench', scale: 'full', startedAt: 'x', finishedAt: 'y', durationMs: 1, machine: {}, benchmarks: [new BenchmarkRecorder('uuid', 't', 'q').result] };
  it('reads back what a run wrote', () => {
    expect(parseResults(JSON.stringify(good), 'r.json').benchmarks[0]!.id).toBe('uuid');
  });
  it('refuses broken JSON and foreign documents with the file named', () => {
    expect(() => parseResults('{', 'r.json')).toThrow(/r.json is not valid JSON/);
    expect(() => parseResults('{"tool":"other"}', 'r.json')).toThrow(/not a pgsteward bench results file/);
    expect(() => parseResults(JSON.stringify({ ...good, benchmarks: [{ id: 'uuid' }] }), 'r.json')).toThrow(/not a pgsteward bench results file/);
  });
});
