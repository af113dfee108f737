import { describe, expect, it } from 'vitest';
import { alternate } from './timing.ts';

describe('alternate', () => {
  it('runs each step reps times, alternating the order each round, after the warm-ups', async () => {
    const calls: string[] = [];
    const out = await alternate(
      4,
      { a: async () => void calls.push('a'), b: async () => void calls.push('b') },
      { warmup: 1, before: async (k, rep) => void calls.push(`before ${k}${rep}`) },
    );
    expect(calls.filter((c) => !c.startsWith('before'))).toEqual(['a', 'b', 'a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']);
    expect(calls.slice(0, 2)).toEqual(['before a-1', 'a']);
    expect(out.a).toHaveLength(4);
    expect(out.b).toHaveLength(4);
  });

  it('times only the step, not the untimed hooks around it', async () => {
    const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
    const out = await alternate(3, { fast: () => sleep(0), slow: () => sleep(30) }, { before: () => sleep(60), after: () => sleep(60) });
    // Had a hook been timed, every sample would be at least 60 ms.
    expect(Math.max(...out.fast)).toBeLessThan(60);
    expect(Math.min(...out.slow)).toBeGreaterThanOrEqual(29);
  });
});
