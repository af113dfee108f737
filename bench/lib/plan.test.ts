import { describe, expect, it } from 'vitest';
import { describePlan, explainTimes, indexesUsed, planRoot, searchWork, seqScans } from './plan.ts';

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

describe('EXPLAIN ANALYZE reading', () => {
  // The shape PostgreSQL 17 prints for the two-word query at 1M phrases (trimmed).
  const analyzed = [
    {
      Plan: {
        'Node Type': 'Limit',
        'Shared Hit Blocks': 39,
        'Shared Read Blocks': 3,
        Plans: [
          {
            'Node Type': 'Sort',
            Plans: [
              {
                'Node Type': 'Bitmap Heap Scan',
                'Actual Rows': 25,
                'Exact Heap Blocks': 25,
                'Lossy Heap Blocks': 0,
                'Rows Removed by Index Recheck': 0,
                Plans: [{ 'Node Type': 'Bitmap Index Scan', 'Index Name': 'phrases_search_idx', 'Shared Hit Blocks': 14, 'Shared Read Blocks': 0 }],
              },
            ],
          },
        ],
      },
      'Planning Time': 0.181,
      'Execution Time': 0.311,
    },
  ];

  it('reads planning and execution time', () => {
    expect(explainTimes(analyzed)).toEqual({ planningMs: 0.181, executionMs: 0.311 });
    expect(explainTimes(JSON.stringify(analyzed))).toEqual({ planningMs: 0.181, executionMs: 0.311 });
    expect(() => explainTimes(bitmap)).toThrow(/ANALYZE/);
  });

  it('says where an indexed search spent its buffers', () => {
    expect(searchWork(planRoot(analyzed))).toEqual({ indexBuffers: 14, heapBlocks: { exact: 25, lossy: 0 }, recheckRemoved: 0, rowsFetched: 25, buffers: 42 });
    expect(searchWork(planRoot(seq))).toEqual({ indexBuffers: 0, heapBlocks: { exact: 0, lossy: 0 }, recheckRemoved: 0, rowsFetched: 0, buffers: 0 });
  });
});
