import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { withConnection } from '../../core/db/connect.ts';
import type { ConnectionSettings } from '../../core/db/url.ts';
import { EXIT, UserError, type ExitCode } from '../../core/errors.ts';
import { readMigrationFolder } from '../../core/migrations/files.ts';
import { migrationStatus } from '../../core/migrations/runner.ts';
import type { ChecksReport } from '../types.ts';
import { readCatalogFacts } from './facts.ts';
import { folderLayout, type FolderLayout } from './naming.ts';
import { planFixes, type FixCandidate, type FixPlan } from './plan.ts';

/**
 * `checks --write-fixes [DIR]`: the checks' findings become reviewed, committed migrations
 * rather than statements pasted by hand. Files are only ever added, never edited or removed,
 * and nothing is run: setup-db (or `pulumi up`) applies them like any other migration.
 */

export interface WriteFixesInput {
  report: ChecksReport;
  /** The database the report is about (read-only: pending migrations and catalog facts). */
  connection: ConnectionSettings;
  dir: string;
  dryRun: boolean;
  now?: Date;
}

export interface WriteFixesResult {
  dir: string;
  dryRun: boolean;
  layout: FolderLayout;
  plan: FixPlan;
  /** Checks that could not run: their findings, and so their fixes, are unknown. */
  notRun: string[];
}

export function candidatesOf(report: ChecksReport): FixCandidate[] {
  return report.results.flatMap((r) => r.findings.map((f) => ({ check: r.id, object: f.object, message: f.message, fix: f.fix, fixable: f.fixable, severity: f.severity, drift: f.drift })));
}

export async function writeFixes(input: WriteFixesInput): Promise<WriteFixesResult> {
  const dir = path.resolve(input.dir);
  const folder = readMigrationFolder(dir);
  const facts = await withConnection(input.connection, { applicationName: 'pgsteward checks --write-fixes', parameters: { default_transaction_read_only: 'on' } }, async (sql) => {
    const status = await migrationStatus(sql, folder);
    if (status.problem) throw new UserError(`cannot write fixes into ${dir}: ${status.problem}`, 'resolve the migrations folder first (npm run status shows it)');
    if (status.pending.length > 0) {
      const n = status.pending.length;
      throw new UserError(
        `${n} migration${n === 1 ? ' is' : 's are'} not applied yet (${status.pending[0]!.file}${n > 1 ? ', …' : ''}), so the findings describe a schema they will change`,
        'apply them first (npm run setup-db), then write fixes',
      );
    }
    return readCatalogFacts(sql);
  });
  const layout = folderLayout(folder);
  const plan = planFixes(candidatesOf(input.report), facts, layout, input.now ?? new Date());
  if (!input.dryRun) {
    for (const f of plan.files) {
      try {
        // `wx`: a name already taken is never overwritten.
        writeFileSync(path.join(dir, f.name), f.sql, { flag: 'wx' });
      } catch (e) {
        throw new UserError(`cannot write ${path.join(dir, f.name)}: ${(e as Error).message.split('\n')[0]}`, 'make the migrations folder writable, or pass another DIR');
      }
    }
  }
  return { dir, dryRun: input.dryRun, layout, plan, notRun: input.report.results.filter((r) => r.status === 'error').map((r) => r.id) };
}

const CONVERGED = /^setup-db converges/;

/** 2 when a check could not run; 1 when an error finding is left to a person; else 0. */
export function writeFixesExitCode(r: WriteFixesResult): ExitCode {
  if (r.notRun.length) return EXIT.error;
  if (r.plan.notWritten.some((n) => n.severity === 'error' && !CONVERGED.test(n.reason))) return EXIT.findings;
  return EXIT.ok;
}

export function formatWriteFixes(r: WriteFixesResult): string {
  const out: string[] = [];
  const rel = path.relative(process.cwd(), r.dir);
  const where = rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? r.dir : rel;
  const n = r.plan.files.length;
  if (n === 0) out.push(`write-fixes: nothing to write into ${where}: no finding has a mechanical fix`);
  else {
    out.push(`write-fixes: ${r.dryRun ? 'would write' : 'wrote'} ${n} migration${n === 1 ? '' : 's'} into ${where}, repairing ${r.plan.written.length} finding${r.plan.written.length === 1 ? '' : 's'}`);
    for (const f of r.plan.files) {
      out.push(`  ${f.name} (${f.noTransaction ? '-- no-transaction' : 'one transaction'})${f.fixes.length ? `: ${f.fixes.map((x) => `${x.check} ${x.object}`).join(', ')}` : ': guards for the index builds after it'}`);
      if (r.dryRun) out.push(...f.sql.trimEnd().split('\n').map((l) => `    | ${l}`));
    }
    out.push(`  up-only: no .down.sql is written${r.layout.reversible ? ' (sqlx never needs one to run the .up.sql; add one by hand if you use sqlx migrate revert)' : ''}`);
  }
  if (r.plan.notWritten.length) {
    out.push(`not written (${r.plan.notWritten.length}):`);
    for (const x of r.plan.notWritten) out.push(`  ${x.check} ${x.object} (${x.severity}): ${x.reason}`);
  }
  if (r.notRun.length) out.push(`could not run, so their fixes are unknown: ${r.notRun.join(', ')}`);
  if (n > 0 && !r.dryRun) out.push('next: read them, commit them, and let npm run setup-db (or pulumi up) apply them; then run checks again');
  return out.join('\n') + '\n';
}

export function writeFixesJson(r: WriteFixesResult, exitCode: ExitCode): unknown {
  return {
    dir: r.dir,
    dryRun: r.dryRun,
    layout: { style: r.layout.style, reversible: r.layout.reversible },
    downFilesWritten: false,
    files: r.plan.files.map((f) => ({ name: f.name, version: f.version, noTransaction: f.noTransaction, fixes: f.fixes, sql: f.sql })),
    written: r.plan.written,
    notWritten: r.plan.notWritten,
    notRun: r.notRun,
    exitCode,
  };
}
