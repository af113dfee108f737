import { describe, expect, it } from 'vitest';
import { COMMON_ENGLISH, fragment, misspell, prng, vocabulary, zipfProbability, zipfRankSql } from './words.ts';

describe('vocabulary', () => {
  it('starts with the most frequent English words, then made-up ones', () => {
    const v = vocabulary(500);
    expect(v.slice(0, 3)).toEqual(['the', 'of', 'and']);
    expect(v.slice(0, COMMON_ENGLISH.length)).toEqual(COMMON_ENGLISH);
    expect(v[COMMON_ENGLISH.length]).toMatch(/^[a-z]{3,11}$/);
  });
  it('has exactly the asked number of distinct lower-case words', () => {
    const v = vocabulary(20_000);
    expect(v).toHaveLength(20_000);
    expect(new Set(v).size).toBe(20_000);
    expect(v.every((w) => /^[a-z]+$/.test(w))).toBe(true);
  });
  it('is the same for the same seed and differs for another', () => {
    expect(vocabulary(1000)).toEqual(vocabulary(1000));
    expect(vocabulary(1000, 1).slice(200)).not.toEqual(vocabulary(1000, 2).slice(200));
  });
  it('has English-like word lengths', () => {
    const v = vocabulary(10_000).slice(COMMON_ENGLISH.length);
    const mean = v.reduce((a, w) => a + w.length, 0) / v.length;
    expect(mean).toBeGreaterThan(5);
    expect(mean).toBeLessThan(9);
  });
});

describe('prng', () => {
  it('stays in [0, 1) and repeats for a seed', () => {
    const a = prng(7);
    const b = prng(7);
    for (let i = 0; i < 1000; i++) {
      const x = a();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      expect(b()).toBe(x);
    }
  });
});

describe('Zipf ranks', () => {
  it('probabilities over every rank sum to one and fall as 1/rank', () => {
    const V = 50_000;
    let total = 0;
    for (let k = 1; k <= V; k++) total += zipfProbability(k, V);
    expect(total).toBeCloseTo(1, 9);
    expect(zipfProbability(10, V) / zipfProbability(100, V)).toBeCloseTo(10, 0);
  });
  it('matches the SQL expression it documents: rank = floor(exp(u·ln(V+1))), capped at V', () => {
    const V = 1000;
    const rank = (u: number) => Math.min(V, Math.floor(Math.exp(u * Math.log(V + 1))));
    expect(rank(0)).toBe(1);
    expect(rank(0.999999)).toBe(V);
    // The share of draws landing on rank 1 is P(u < ln 2 / ln(V+1)).
    expect(Math.log(2) / Math.log(V + 1)).toBeCloseTo(zipfProbability(1, V), 12);
    expect(zipfRankSql(V)).toBe('least(1000, floor(exp(random() * ln(1001)))::int)');
  });
});

describe('typos and fragments', () => {
  it('changes exactly the last letter', () => {
    expect(misspell('rostrus')).toBe('rostrux');
    expect(misspell('lex')).toBe('les');
    expect(misspell('pleet')).toHaveLength(5);
  });
  it('takes the middle of a word', () => {
    expect(fragment('plookychu', 4)).toBe('ooky');
    expect(fragment('abc', 4)).toBe('abc');
  });
});
