import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CHART_FILES, chartsFor } from './charts.ts';
import type { ChartLink } from './markdown.ts';
import type { RunResults } from './results.ts';

/**
 * Writes the charts of a run into `dir` and removes any chart file of ours that this run
 * could not draw (so a picture never outlives its numbers). Returns the links a Markdown file
 * in `markdownDir` uses.
 */
export function writeCharts(results: RunResults, dir: string, markdownDir: string): ChartLink[] {
  const charts = chartsFor(results);
  mkdirSync(dir, { recursive: true });
  for (const c of charts) writeFileSync(path.join(dir, c.file), c.svg);
  const drawn = new Set(charts.map((c) => c.file));
  for (const f of CHART_FILES) if (!drawn.has(f) && existsSync(path.join(dir, f))) rmSync(path.join(dir, f));
  return charts.map((c) => ({ benchmark: c.benchmark, alt: c.alt, path: path.relative(markdownDir, path.join(dir, c.file)).split(path.sep).join('/') }));
}
