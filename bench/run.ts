#!/usr/bin/env -S npx tsx
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runCommand } from '../core/cli/command.ts';
import { paint } from '../core/cli/paint.ts';
import { EXIT, UserError, errorLine } from '../core/errors.ts';
import { REPO_ROOT } from '../core/paths.ts';
import { scrub } from '../core/secrets.ts';
import { uuidBenchmark } from './benchmarks/uuidv7.ts';
import { searchBenchmark } from './benchmarks/search.ts';
import { migrationBenchmark } from './benchmarks/migration-overhead.ts';
import { checksBenchmark } from './benchmarks/checks-scaling.ts';
import { backupBenchmark } from './benchmarks/backup-overhead.ts';
import { Unavailable, type Benchmark, type BenchContext } from './lib/context.ts';
import { writeCharts } from './lib/chart-files.ts';
import { ratioLines, renderMarkdown } from './lib/markdown.ts';
import { BENCHMARK_IDS, BenchmarkRecorder, parseResults, type BenchmarkId, type RunResults } from './lib/results.ts';
import { parseScale, SCALE_NAMES } from './lib/scale.ts';
import { startServer, type BenchServer } from './lib/servers.ts';

/** In report order: the design record's claims first, then our own tools' overhead. */
const BENCHMARKS: readonly Benchmark[] = [uuidBenchmark, searchBenchmark, migrationBenchmark, checksBenchmark, backupBenchmark];

export const COMMITTED_RESULTS = path.join(REPO_ROOT, 'bench', 'results.json');
export const COMMITTED_MARKDOWN = path.join(REPO_ROOT, 'BENCHMARKS.md');
export const COMMITTED_CHARTS = path.join(REPO_ROOT, 'bench', 'charts');

/** Where a results file's charts go: bench/charts for the committed one, else `charts-<scale>/` beside it. */
function chartsDirFor(resultsFile: string, scale: string, given: string | undefined): string {
  if (given) return path.resolve(given);
  return path.resolve(resultsFile) === COMMITTED_RESULTS ? COMMITTED_CHARTS : path.join(path.dirname(resultsFile), `charts-${scale}`);
}

function readResults(results: string | undefined): { file: string; results: RunResults } {
  const file = path.resolve(results ?? COMMITTED_RESULTS);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`cannot read ${file}`, 'run the benchmarks first (npm run bench) or pass --results FILE');
  }
  return { file, results: parseResults(text, file) };
}

const shown = (file: string) => path.relative(process.cwd(), file) || file;

function parseOnly(raw: string | undefined): BenchmarkId[] {
  if (!raw) return [...BENCHMARK_IDS];
  const ids = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    if (!(BENCHMARK_IDS as readonly string[]).includes(id)) {
      throw new UserError(`unknown benchmark "${id.slice(0, 20)}"`, `use --only with any of ${BENCHMARK_IDS.join(',')}`);
    }
  }
  return ids as BenchmarkId[];
}

/** Checked before a run that may take half an hour, not after it. */
function ensureWritable(file: string): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    accessSync(path.dirname(file), constants.W_OK);
    if (existsSync(file)) accessSync(file, constants.W_OK);
  } catch {
    throw new UserError(`cannot write ${file}`, 'choose a writable path with --results/--markdown');
  }
}

/** Rewrites the report and its charts from results already measured, e.g. after the report's layout changed. */
function renderOnly(results: string | undefined, markdown: string | undefined, charts: string | undefined): number {
  const { file: resultsFile, results: parsed } = readResults(results);
  const markdownFile = path.resolve(markdown ?? (results ? resultsFile.replace(/\.json$/, '') + '.md' : COMMITTED_MARKDOWN));
  ensureWritable(markdownFile);
  const links = writeCharts(parsed, chartsDirFor(resultsFile, parsed.scale, charts), path.dirname(markdownFile));
  writeFileSync(markdownFile, renderMarkdown(parsed, path.relative(path.dirname(markdownFile), resultsFile) || resultsFile, links));
  process.stdout.write(`bench: wrote ${shown(markdownFile)} and ${links.length} chart(s) from ${shown(resultsFile)}\n`);
  return EXIT.ok;
}

/** Draws the charts from results already measured; the Markdown is left as it is. */
function chartsOnly(results: string | undefined, charts: string | undefined): number {
  const { file: resultsFile, results: parsed } = readResults(results);
  const dir = chartsDirFor(resultsFile, parsed.scale, charts);
  ensureWritable(path.join(dir, 'x.svg'));
  const links = writeCharts(parsed, dir, dir);
  process.stdout.write(`bench: wrote ${links.length} chart(s) to ${shown(dir)} from ${shown(resultsFile)}${links.length ? `: ${links.map((l) => l.path).join(', ')}` : ''}\n`);
  return EXIT.ok;
}

/** Servers start on first use and are stopped once, whatever happens. */
function serverPool(stateDir: string) {
  const started = new Map<string, Promise<BenchServer>>();
  const get = (label: string) => {
    let p = started.get(label);
    if (!p) {
      p = startServer(stateDir, label);
      started.set(label, p);
    }
    return p;
  };
  return {
    pg17: () => get('pg17'),
    stopAll: async () => {
      for (const p of started.values()) {
        const server = await p.catch(() => undefined);
        await server?.stop().catch(() => {});
      }
    },
  };
}

await runCommand(
  {
    name: 'bench',
    summary: 'measure the design record\'s performance claims and our tools\' overhead, as ratios on this machine',
    options: {
      scale: { type: 'string', description: `${SCALE_NAMES.join('|')} (default full: the issue's sizes, 15-30 minutes)`, valueName: 'SCALE' },
      only: { type: 'string', description: `comma-separated subset of ${BENCHMARK_IDS.join(',')}`, valueName: 'IDS' },
      results: { type: 'string', description: 'where to write the JSON results', valueName: 'FILE' },
      markdown: { type: 'string', description: 'where to write the Markdown report', valueName: 'FILE' },
      json: { type: 'boolean', description: 'print the results JSON instead of text' },
      'keep-state': { type: 'boolean', description: 'keep the temporary clusters and dumps for inspection (their folder is printed)' },
      'render-only': { type: 'boolean', description: 'measure nothing: rewrite the Markdown report and its charts from an existing results file (--results, default bench/results.json)' },
      'charts-only': { type: 'boolean', description: 'measure nothing: draw the SVG charts from an existing results file (--results, default bench/results.json)' },
      charts: { type: 'string', description: 'where to write the SVG charts (default bench/charts for the committed results, else charts-<scale>/ beside the results file)', valueName: 'DIR' },
    },
    details: [
      'A complete full-scale run writes bench/results.json, BENCHMARKS.md and its charts (bench/charts/*.svg);',
      'a smaller scale or a subset (--only) writes bench/out/results-<scale>.json, bench/out/BENCHMARKS-<scale>.md',
      'and bench/out/charts-<scale>/, so a quick look never overwrites the committed report.',
      'What each benchmark measures and why: docs/benchmarks.md.',
      'The bench starts its own PostgreSQL 17 (embedded) in a temporary folder on a free port; the',
      'npm start cluster is never touched. The backup benchmark uses the pg_dump/pg_restore 17 that',
      'npm run pg-tools installed (or PG_BIN, PATH, /usr/lib/postgresql, as backup-db finds them).',
      'A refuted target is a result, not an error: the exit code is 1 only when a benchmark could not',
      'run here, 2 when one failed.',
    ].join('\n'),
  },
  async (args) => {
    const chartsFlag = args.values.charts as string | undefined;
    if (args.values['render-only'] && args.values['charts-only']) throw new UserError('--render-only and --charts-only exclude each other', '--render-only already redraws the charts');
    if (args.values['render-only']) return renderOnly(args.values.results as string | undefined, args.values.markdown as string | undefined, chartsFlag);
    if (args.values['charts-only']) return chartsOnly(args.values.results as string | undefined, chartsFlag);
    const scale = parseScale(args.values.scale as string | undefined ?? 'full');
    const only = parseOnly(args.values.only as string | undefined);
    const complete = scale.name === 'full' && only.length === BENCHMARK_IDS.length;
    const outDir = path.join(REPO_ROOT, 'bench', 'out');
    const resultsFile = path.resolve((args.values.results as string | undefined) ?? (complete ? COMMITTED_RESULTS : path.join(outDir, `results-${scale.name}.json`)));
    const markdownFile = path.resolve((args.values.markdown as string | undefined) ?? (complete ? COMMITTED_MARKDOWN : path.join(outDir, `BENCHMARKS-${scale.name}.md`)));
    for (const file of [resultsFile, markdownFile]) ensureWritable(file);
    const json = Boolean(args.values.json);
    const say = (line: string) => {
      if (!json) process.stdout.write(line + '\n');
    };

    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-bench-'));
    const servers = serverPool(stateDir);
    let interrupted = false;
    const onSignal = () => {
      if (interrupted) return;
      interrupted = true;
      process.stderr.write('\nbench: interrupted, stopping its PostgreSQL servers…\n');
      void servers.stopAll().finally(() => {
        if (!args.values['keep-state']) rmSync(stateDir, { recursive: true, force: true });
        process.exit(130);
      });
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);

    const startedAt = new Date();
    const t0 = performance.now();
    const results: RunResults = {
      tool: 'pgsteward bench',
      scale: scale.name,
      startedAt: startedAt.toISOString(),
      finishedAt: '',
      durationMs: 0,
      machine: { cpus: os.cpus().length, memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, node: process.version, platform: `${os.platform()} ${os.arch()}` },
      benchmarks: [],
    };
    try {
      say(paint.bold(`bench: scale ${scale.name}, ${only.join(', ')}`));
      // The server starts in the background while the first benchmark prepares.
      servers.pg17().catch(() => {});
      for (const bench of BENCHMARKS.filter((b) => only.includes(b.id))) {
        const rec = new BenchmarkRecorder(bench.id, bench.title, bench.question);
        const ctx: BenchContext = {
          scale,
          stateDir,
          pg17: servers.pg17,
          log: (message) => process.stderr.write(`${paint.dim(`[${bench.id}]`)} ${message}\n`),
        };
        const b0 = performance.now();
        try {
          await bench.run(ctx, rec);
        } catch (e) {
          rec.result.status = e instanceof Unavailable ? 'unavailable' : 'failed';
          rec.result.reason = scrub(errorLine(e));
          if (process.env.PGSTEWARD_DEBUG) process.stderr.write(scrub(String((e as Error)?.stack ?? e)) + '\n');
        }
        rec.result.durationMs = Math.round(performance.now() - b0);
        if (rec.result.status === 'failed') process.stderr.write(`${paint.red('error')}: bench ${bench.id}: ${rec.result.reason}\n`);
        results.benchmarks.push(rec.result);
        for (const line of ratioLines(rec.result)) say(line);
      }
    } finally {
      await servers.stopAll();
      if (args.values['keep-state']) process.stderr.write(`bench: state kept in ${stateDir}\n`);
      else rmSync(stateDir, { recursive: true, force: true });
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
    results.finishedAt = new Date().toISOString();
    results.durationMs = Math.round(performance.now() - t0);

    mkdirSync(path.dirname(resultsFile), { recursive: true });
    mkdirSync(path.dirname(markdownFile), { recursive: true });
    writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
    const links = writeCharts(results, chartsDirFor(resultsFile, results.scale, chartsFlag), path.dirname(markdownFile));
    writeFileSync(markdownFile, renderMarkdown(results, path.relative(path.dirname(markdownFile), resultsFile) || resultsFile, links));
    if (json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    else say(`bench: wrote ${path.relative(process.cwd(), resultsFile) || resultsFile} and ${path.relative(process.cwd(), markdownFile) || markdownFile}`);

    if (results.benchmarks.some((b) => b.status === 'failed')) return EXIT.error;
    if (results.benchmarks.some((b) => b.status === 'unavailable')) return EXIT.findings;
    return EXIT.ok;
  },
);
