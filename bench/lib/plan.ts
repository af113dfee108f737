/**
 * Reading EXPLAIN (FORMAT JSON) output, so each comparison records the plan it actually
 * measured: a "with index" number from a sequential scan would be worthless.
 */

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
  [key: string]: unknown;
}

/** The `Plan` root from EXPLAIN (FORMAT JSON)'s single row, whichever way the driver returns it. */
export function planRoot(explainJson: unknown): PlanNode {
  const doc = typeof explainJson === 'string' ? JSON.parse(explainJson) : explainJson;
  const first = Array.isArray(doc) ? doc[0] : doc;
  const plan = (first as { Plan?: PlanNode } | undefined)?.Plan;
  if (!plan || typeof plan['Node Type'] !== 'string') throw new Error('not an EXPLAIN (FORMAT JSON) document');
  return plan;
}

function walk(node: PlanNode, visit: (n: PlanNode) => void): void {
  visit(node);
  for (const child of node.Plans ?? []) walk(child, visit);
}

/** Every index the plan reads. */
export function indexesUsed(root: PlanNode): string[] {
  const out: string[] = [];
  walk(root, (n) => {
    if (n['Index Name'] && !out.includes(n['Index Name'])) out.push(n['Index Name']);
  });
  return out;
}

/** Whether any node scans `relation` sequentially. */
export function seqScans(root: PlanNode, relation: string): boolean {
  let found = false;
  walk(root, (n) => {
    if (n['Node Type'] === 'Seq Scan' && n['Relation Name'] === relation) found = true;
  });
  return found;
}

/** One line for a report: "Limit > Sort > Bitmap Heap Scan on phrases > Bitmap Index Scan using phrases_search_idx". */
export function describePlan(root: PlanNode): string {
  const parts: string[] = [];
  walk(root, (n) => {
    let s = n['Node Type'];
    if (n['Index Name']) s += ` using ${n['Index Name']}`;
    else if (n['Relation Name']) s += ` on ${n['Relation Name']}`;
    parts.push(s);
  });
  return parts.join(' > ');
}

/** Planning and execution time (ms) from EXPLAIN (ANALYZE, FORMAT JSON)'s single row. */
export function explainTimes(explainJson: unknown): { planningMs: number; executionMs: number } {
  const doc = typeof explainJson === 'string' ? JSON.parse(explainJson) : explainJson;
  const first = (Array.isArray(doc) ? doc[0] : doc) as { 'Planning Time'?: unknown; 'Execution Time'?: unknown } | undefined;
  const planningMs = Number(first?.['Planning Time']);
  const executionMs = Number(first?.['Execution Time']);
  if (!Number.isFinite(planningMs) || !Number.isFinite(executionMs)) throw new Error('not an EXPLAIN (ANALYZE, FORMAT JSON) document');
  return { planningMs, executionMs };
}

/**
 * Where an indexed search's work goes, from EXPLAIN (ANALYZE, BUFFERS): buffers the index
 * scans touched, heap blocks the bitmap heap scan visited (exact and lossy), rows its recheck
 * threw away, and rows that reached the ranking. Zero where the plan has no such node.
 */
export function searchWork(root: PlanNode): { indexBuffers: number; heapBlocks: { exact: number; lossy: number }; recheckRemoved: number; rowsFetched: number; buffers: number } {
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  const out = { indexBuffers: 0, heapBlocks: { exact: 0, lossy: 0 }, recheckRemoved: 0, rowsFetched: 0, buffers: n(root['Shared Hit Blocks']) + n(root['Shared Read Blocks']) };
  walk(root, (node) => {
    if (node['Node Type'] === 'Bitmap Index Scan') out.indexBuffers += n(node['Shared Hit Blocks']) + n(node['Shared Read Blocks']);
    if (node['Node Type'] === 'Bitmap Heap Scan') {
      out.heapBlocks.exact += n(node['Exact Heap Blocks']);
      out.heapBlocks.lossy += n(node['Lossy Heap Blocks']);
      out.recheckRemoved += n(node['Rows Removed by Index Recheck']);
      out.rowsFetched += n(node['Actual Rows']);
    }
  });
  return out;
}
