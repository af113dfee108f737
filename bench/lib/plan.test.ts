import { describe, expect, it } from 'vitest';
import { describePlan, indexesUsed, planRoot, seqScans } from './plan.ts';

const bitmap = [
  {
    Plan: {
      'Node Type': 'Limit',
      Plans: [
        {
          'Node Type': 'Sort',
          Plans: [
            {
              'Node Type': 'Bitmap Heap Scan',
              'Relation Name': 'phrases',
              Plans: [{ 'Node Type': 'Bitmap Index Scan', 'Index Name': 'phrases_search_idx' }],
            },
          ],
        },
      ],
    },
  },
];
const seq = [{ Plan: { 'Node Type': 'Gather', Plans: [{ 'Node Type': 'Seq Scan', 'Relation Name': 'phrases' }] } }];

describe('plan reading', () => {
  it('finds the indexes a plan uses', () => {
    expect(indexesUsed(planRoot(bitmap))).toEqual(['phrases_search_idx']);
    expect(indexesUsed(planRoot(seq))).toEqual([]);
  });

  it('spots sequential scans of one relation only', () => {
    expect(seqScans(planRoot(seq), 'phrases')).toBe(true);
    expect(seqScans(planRoot(seq), 'users')).toBe(false);
    expect(seqScans(planRoot(bitmap), 'phrases')).toBe(false);
  });

  it('describes a plan on one line, root first', () => {
    expect(describePlan(planRoot(bitmap))).toBe('Limit > Sort > Bitmap Heap Scan on phrases > Bitmap Index Scan using phrases_search_idx');
  });

  it('accepts the JSON as text, as some drivers return it', () => {
    expect(planRoot(JSON.stringify(seq))['Node Type']).toBe('Gather');
  });

  it('refuses something that is not a plan', () => {
    expect(() => planRoot([{ nope: 1 }])).toThrow(/EXPLAIN/);
  });
});
