import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECKS, runChecks } from './suite.ts';
import { applyFixes, fixtureMeta, fixtureRun, objects, repairSql, runOne } from './test-support.ts';
import type { CheckResult } from './types.ts';
import type { RunChecksOptions } from './suite.ts';

/**
 * The flow every rule goes through, whoever wrote it (splinter's pattern): its fixture makes it
 * fail; the fix of every fixable finding, applied as written, makes that finding go away and
 * brings no other. A new rule gets all of this by adding its rule, fixture and docs page.
 */

const fixtureOf = (id: string) => new URL(`./rules/${id}.fixture.sql`, import.meta.url);
const docOf = (id: string) => new URL(`../docs/checks/${id}.md`, import.meta.url);
const sorted = (xs: readonly string[]) => [...xs].sort();
const pairs = (r: CheckResult) => r.findings.map((f) => `${f.object} | ${f.message}`);
/** What a finding is, whatever run-time values (a probe's uuid) its message quotes. */
const identities = (r: CheckResult) => r.findings.map((f) => `${f.object} | ${f.severity} | ${f.fixable} | ${f.fix}`);

describe('every rule', () => {
  it('is discovered from checks/rules/ and has a fixture and a docs page', () => {
    expect(CHECKS.length).toBeGreaterThanOrEqual(12);
    for (const c of CHECKS) {
      expect(existsSync(fixtureOf(c.id)), `checks/rules/${c.id}.fixture.sql`).toBe(true);
      expect(existsSync(docOf(c.id)), `docs/checks/${c.id}.md`).toBe(true);
    }
  });

  it("has a docs page that says what it guards, why, a failing example, the fix and how to silence it, at the check's severity", () => {
    const index = readFileSync(new URL('../docs/checks/README.md', import.meta.url), 'utf8');
    for (const c of CHECKS) {
      const page = readFileSync(docOf(c.id), 'utf8');
      expect(page.split('\n')[0], c.id).toBe(`# \`${c.id}\`: ${c.title}`);
      expect(page, c.id).toContain(`**Severity:** ${c.severity}`);
      for (const heading of ['## What it guards', '## Why', '## Failing example', '## Fix', '## Silencing it']) expect(page, `${c.id}: ${heading}`).toContain(`\n${heading}\n`);
      expect(page.match(/```sql\n/g)?.length ?? 0, `${c.id}: SQL examples`).toBeGreaterThanOrEqual(1);
      expect(index, `docs/checks/README.md lists ${c.id}`).toContain(`[\`${c.id}\`](${c.id}.md)`);
    }
  });
});

for (const check of CHECKS) {
  describe(`${check.id} on its fixture`, () => {
    const meta = fixtureMeta(fixtureOf(check.id));
    let opts: Omit<RunChecksOptions, 'only'>;
    let before: CheckResult;
    let counted: CheckResult;
    let after: CheckResult;
    beforeAll(async () => {
      ({ opts } = await fixtureRun(fixtureOf(check.id)));
      before = await runOne(check.id, opts);
      counted = (await runChecks({ ...opts, only: [check.id], verbose: false })).results[0]!;
      await applyFixes(opts.connection, before.findings, meta.repair);
      after = await runOne(check.id, opts);
    });

    it('fails on it, naming what the fixture plants', () => {
      expect(before.status, before.error).not.toBe('error');
      expect(before.findings.length).toBeGreaterThan(0);
      if (meta.findings) expect(sorted(objects(before))).toEqual(sorted(meta.findings));
    });

    it('reports the same findings and counts whether it lists passing subjects or counts them', () => {
      expect(identities(counted)).toEqual(identities(before));
      expect(counted.passedCount).toBe(before.passedCount);
      expect(before.passed.length).toBe(before.passedCount);
    });

    it('no longer reports a finding once its fix is applied, and reports nothing new', () => {
      expect(after.status, after.error).not.toBe('error');
      const repaired = (f: (typeof before.findings)[number]) => repairSql(f, meta.repair) !== undefined;
      const fixed = new Set(before.findings.filter(repaired).map((f) => `${f.object} | ${f.message}`));
      expect(pairs(after).filter((p) => fixed.has(p))).toEqual([]);
      const expected = meta.remaining ?? objects({ ...before, findings: before.findings.filter((f) => !repaired(f)) });
      expect(sorted(objects(after))).toEqual(sorted(expected));
    });
  });
}
