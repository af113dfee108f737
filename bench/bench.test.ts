import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../core/paths.ts';
import type { RunResults } from './lib/results.ts';

const run = promisify(execFile);

/**
 * The one end-to-end run of the benchmarks in the test suite: `--scale tiny`, so the code
 * cannot rot. It proves the machinery (servers, data generation, every comparison, the
 * report), not the numbers: at this size the ratios mean nothing.
 */
describe('npm run bench -- --scale tiny', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-bench-test-'));
  const resultsFile = path.join(out, 'results.json');
  const markdownFile = path.join(out, 'BENCHMARKS.md');
  const committed = path.join(REPO_ROOT, 'BENCHMARKS.md');
  const committedBefore = existsSync(committed) ? statSync(committed).mtimeMs : undefined;
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  let stdout = '';
  let exitCode = 0;
  let results: RunResults;

  it('runs every benchmark end to end on its own servers and exits 0', async () => {
    try {
      ({ stdout } = await run(
        path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
        [path.join(REPO_ROOT, 'bench', 'run.ts'), '--scale', 'tiny', '--results', resultsFile, '--markdown', markdownFile],
        { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 16 << 20 },
      ));
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      exitCode = err.code ?? -1;
      stdout = `${err.stdout ?? ''}\n${err.stderr ?? ''}`;
    }
    expect(stdout).not.toMatch(/failed:|not measured/);
    expect(exitCode).toBe(0);
    results = JSON.parse(readFileSync(resultsFile, 'utf8')) as RunResults;
    expect(results.scale).toBe('tiny');
    expect(results.benchmarks.map((b) => [b.id, b.status])).toEqual([
      ['uuid', 'ok'],
      ['search', 'ok'],
      ['migrations', 'ok'],
      ['checks', 'ok'],
      ['backup', 'ok'],
    ]);
  }, 240_000);

  it('measures a finite ratio for every comparison, from at least five timed runs each', () => {
    for (const b of results.benchmarks) {
      expect(b.server?.version, b.id).toMatch(/^17\./);
      expect(b.ratios.filter((r) => r.headline).length, b.id).toBeGreaterThan(0);
      for (const r of b.ratios) {
        expect(Number.isFinite(r.value), `${b.id} ${r.key}`).toBe(true);
        expect(r.value!, `${b.id} ${r.key}`).toBeGreaterThan(0);
      }
      for (const m of b.measurements.filter((x) => x.unit === 'ms')) expect(m.n, `${b.id} ${m.key}`).toBeGreaterThanOrEqual(5);
    }
    const byId = Object.fromEntries(results.benchmarks.map((b) => [b.id, b]));
    expect(byId.uuid!.params['uuid_generate_v7() implementation']).toBe('SQL extension pg_uuidv7 1.6');
    // Facts that hold at any size: a rebuilt index is packed alike for both key kinds, and the checks suite's round trips do not grow with the schema.
    expect(byId.uuid!.ratios.find((r) => r.key === 'pkey_sorted')!.value).toBeCloseTo(1, 1);
    expect(byId.checks!.ratios.find((r) => r.key === 'queries')!.value).toBe(1);
    expect(byId.checks!.ratios.find((r) => r.key === 'drift_queries')!.value).toBe(1);
    expect(byId.checks!.ratios.find((r) => r.key === 'drift_time')!.target).toEqual({ op: '<=', value: 3 });
    expect(String(byId.checks!.params['per check, SQL round trips (every size)'])).toMatch(/schema-drift \d+/);
    expect(String(byId.backup!.params['restore-db outcome'])).toMatch(/^verified/);
    // Benchmark 5 runs the 17 tools against the 17 server, on both sides.
    expect(String(byId.backup!.params['pg_dump'])).toMatch(/^17\.\d+, \S+\/pg_dump /);
    expect(String(byId.backup!.params['pg_restore'])).toMatch(/^17\.\d+, \S+\/pg_restore /);
    expect(byId.backup!.ratios.filter((r) => r.headline).map((r) => [r.key, r.target])).toEqual([
      ['backup', { op: '<=', value: 1.05 }],
      ['restore', { op: '<=', value: 1.05 }],
    ]);
  });

  it('prints each benchmark\'s headline ratio last', () => {
    for (const b of results.benchmarks) {
      const lines = stdout.split('\n').filter((l) => l.startsWith(`${b.id}: `));
      const headlines = b.ratios.filter((r) => r.headline).map((r) => r.label);
      expect(lines.length, b.id).toBe(b.ratios.length);
      expect(headlines.some((h) => lines.at(-1)!.startsWith(`${b.id}: ${h} = `)), b.id).toBe(true);
    }
  });

  it('writes the report where it was told, leaving the committed BENCHMARKS.md alone', () => {
    const md = readFileSync(markdownFile, 'utf8');
    expect(md).toMatch(/^# Benchmarks/);
    expect(md).toContain('at scale **tiny**');
    for (let i = 1; i <= 5; i++) expect(md).toMatch(new RegExp(`^## ${i}\\. `, 'm'));
    expect(md).toContain('PostgreSQL 17.');
    expect(md).not.toContain('PostgreSQL 15.');
    expect(existsSync(committed) ? statSync(committed).mtimeMs : undefined).toBe(committedBefore);
  });
});
