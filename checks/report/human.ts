import type { CheckResult, ChecksReport } from '../types.ts';

export interface Style {
  ok(s: string): string;
  fail(s: string): string;
  warn(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export const PLAIN: Style = { ok: (s) => s, fail: (s) => s, warn: (s) => s, dim: (s) => s, bold: (s) => s };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "41 passed, 2 failed, 1 warning" (and "1 could not run" when a check errored). */
export function summaryLine(report: Pick<ChecksReport, 'summary' | 'results'>): string {
  const errored = report.results.filter((r) => r.status === 'error').length;
  const s = report.summary;
  return `${s.passed} passed, ${s.failed} failed, ${plural(s.warnings, 'warning')}${errored ? `, ${errored} could not run` : ''}`;
}

function mark(r: CheckResult, style: Style): string {
  switch (r.status) {
    case 'passed':
      return style.ok('✓');
    case 'warning':
      return style.warn('!');
    default:
      return style.fail('✗');
  }
}

function counts(r: CheckResult): string {
  if (r.status === 'error') return 'could not run';
  const errors = r.findings.filter((f) => f.severity === 'error').length;
  const warnings = r.findings.length - errors;
  return [errors ? `${errors} failed` : '', warnings ? plural(warnings, 'warning') : '', `${r.passedCount} passed`].filter(Boolean).join(', ');
}

/** The report for people: one line per check, its findings indented under it, a summary line last. */
export function formatHuman(report: ChecksReport, opts: { style?: Style; verbose?: boolean; header?: string; strict?: boolean } = {}): string {
  const style = opts.style ?? PLAIN;
  const width = Math.max(...report.results.map((r) => r.id.length));
  const lines: string[] = [];
  if (opts.header) lines.push(style.bold(opts.header), '');
  for (const r of report.results) {
    lines.push(`${mark(r, style)} ${r.id.padEnd(width)}  ${r.title} ${style.dim(`(${counts(r)})`)}`);
    if (r.error) lines.push(`    ${style.fail('could not run')}: ${r.error}`);
    for (const f of r.findings) {
      const m = f.severity === 'error' ? style.fail('✗') : style.warn('!');
      lines.push(`    ${m} ${f.object}: ${f.message}${f.policy ? style.dim(` [policy ${f.policy}]`) : ''}`);
      lines.push(`      ${style.dim('fix:')} ${f.fix}`);
    }
    if (opts.verbose) for (const p of r.passed) lines.push(`    ${style.ok('✓')} ${p}`);
  }
  if (report.policiesNotEvaluated.length > 0) {
    lines.push('', `policies not evaluated (not enabled in the configuration): ${report.policiesNotEvaluated.join(', ')}`);
  }
  const strictNote = opts.strict && report.summary.warnings > 0 ? ' (--strict: warnings fail)' : '';
  lines.push('', `${summaryLine(report)}${strictNote} ${style.dim(`in ${(report.durationMs / 1000).toFixed(1)} s, ${report.queries} queries`)}`);
  return lines.join('\n') + '\n';
}
